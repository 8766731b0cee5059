package networkpolicy

import (
	"hash/fnv"
	"net/netip"
	"sort"
	"strconv"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// member is one value of a dimension: an address prefix on nw_src or
// nw_dst, or a port match.
type member struct {
	dst    bool // prefix on nw_dst (else nw_src); unused for ports
	port   bool
	prefix netip.Prefix
	pm     portMatch
}

func (m member) key() string {
	switch {
	case m.port:
		return m.pm.key()
	case m.dst:
		return "dst=" + m.prefix.String()
	}
	return "src=" + m.prefix.String()
}

func (m member) apply(x *of.Match) {
	switch {
	case m.port:
		m.pm.apply(x)
	case m.dst:
		x.IPv4DstNet(m.prefix)
	default:
		x.IPv4SrcNet(m.prefix)
	}
}

// conj is one conjunctive match of a rule and the flows it contributes to.
type conj struct {
	id    uint32
	rule  *rule
	split string
	// contribs maps the owner of each clause or direct flow the conjunction
	// is part of to its clause (k<<8 | n; 0 for a direct flow).
	contribs map[owner]uint16
	conjFlow bool   // it owns np/conj/<id>
	dims     [3]int // dimension sizes (0 = any), for the naive flow count
}

// sharedFlow is a clause or direct flow and the conjunctions using it.
type sharedFlow struct {
	table    uint8
	priority uint16
	m        member
	refs     map[uint32]uint16 // conj id -> k<<8|n (0: direct)
}

// denyEntry is the default drop of an isolated pod address; count is the
// number of isolated pods with that address (normally 1).
type denyEntry struct {
	ip    netip.Addr
	dir   Direction
	count int
}

// ruleTables returns the table holding direction d's rules and the table a
// packet they allow continues in.
func ruleTables(d Direction) (rules, next uint8) {
	if d == Ingress {
		return pipeline.IngressRules.ID, pipeline.IngressNext.ID
	}
	return pipeline.EgressRules.ID, pipeline.EgressNext.ID
}

type ownerKind uint8

const (
	ownClause ownerKind = iota + 1
	ownDirect
	ownConj
	ownDeny
)

// owner identifies a group of flows internally; String gives its key in
// Changes and All.
type owner struct {
	kind  ownerKind
	table uint8
	m     member     // clause, direct
	id    uint32     // conj
	dir   Direction  // deny
	ip    netip.Addr // deny
}

func (o owner) String() string {
	switch o.kind {
	case ownClause:
		return "np/clause/" + strconv.Itoa(int(o.table)) + "/" + o.m.key()
	case ownDirect:
		return "np/direct/" + strconv.Itoa(int(o.table)) + "/" + o.m.key()
	case ownConj:
		return "np/conj/" + strconv.FormatUint(uint64(o.id), 10)
	}
	if o.dir == Ingress {
		return "np/deny/in/" + o.ip.String()
	}
	return "np/deny/out/" + o.ip.String()
}

func conjOwner(id uint32) owner { return owner{kind: ownConj, id: id} }

func denyOwner(d Direction, ip netip.Addr) owner { return owner{kind: ownDeny, dir: d, ip: ip} }

func (e *Engine) markDirty(o owner) { e.dirty[o] = struct{}{} }

// applySpec makes conjunction c contribute exactly the flows of spec.
func (e *Engine) applySpec(c *conj, s *conjSpec) {
	table, _ := ruleTables(c.rule.dir)
	appliedDst := c.rule.dir == Ingress
	var dims [][]member
	var sizes [3]int
	am := make([]member, 0, len(s.applied))
	for _, ip := range s.applied {
		am = append(am, member{dst: appliedDst, prefix: netip.PrefixFrom(ip, 32)})
	}
	dims = append(dims, am)
	sizes[0] = len(am)
	if !s.anyPeer {
		pm := make([]member, 0, len(s.peers))
		for _, p := range s.peers {
			pm = append(pm, member{dst: !appliedDst, prefix: p})
		}
		dims = append(dims, pm)
		sizes[1] = len(pm)
	}
	if !s.anyPort {
		pm := make([]member, 0, len(s.ports))
		for _, p := range s.ports {
			pm = append(pm, member{port: true, pm: p})
		}
		dims = append(dims, pm)
		sizes[2] = len(pm)
	}
	c.dims = sizes
	n := len(dims)
	kind, prio := ownClause, pipeline.PolicyRulePriority
	if n == 1 {
		kind, prio = ownDirect, pipeline.PolicyRuleDirectPriority
	}
	want := make(map[owner]uint16, len(c.contribs))
	for k, dim := range dims {
		v := uint16(0)
		if n > 1 {
			v = uint16(k+1)<<8 | uint16(n)
		}
		for _, m := range dim {
			want[owner{kind: kind, table: table, m: m}] = v
		}
	}
	for o, v := range c.contribs {
		if w, ok := want[o]; !ok || w != v {
			e.unref(o, c.id)
		}
	}
	for o, v := range want {
		if old, ok := c.contribs[o]; !ok || old != v {
			e.ref(o, c.id, v, prio)
		}
	}
	c.contribs = want
	if hasConj := n > 1; hasConj != c.conjFlow {
		c.conjFlow = hasConj
		o := conjOwner(c.id)
		if hasConj {
			e.conjFlows[o] = c
		} else {
			delete(e.conjFlows, o)
		}
		e.markDirty(o)
	}
}

// dropConj removes every flow contribution of c.
func (e *Engine) dropConj(c *conj) {
	for o := range c.contribs {
		e.unref(o, c.id)
	}
	c.contribs = nil
	if c.conjFlow {
		o := conjOwner(c.id)
		delete(e.conjFlows, o)
		e.markDirty(o)
		c.conjFlow = false
	}
	delete(e.conjByID, c.id)
}

func (e *Engine) ref(o owner, id uint32, v uint16, prio uint16) {
	sf := e.shared[o]
	if sf == nil {
		sf = &sharedFlow{table: o.table, priority: prio, m: o.m, refs: map[uint32]uint16{}}
		e.shared[o] = sf
	}
	sf.refs[id] = v
	e.markDirty(o)
}

func (e *Engine) unref(o owner, id uint32) {
	sf := e.shared[o]
	if sf == nil {
		return
	}
	delete(sf.refs, id)
	if len(sf.refs) == 0 {
		delete(e.shared, o)
	}
	e.markDirty(o)
}

func (e *Engine) addDeny(d Direction, ip netip.Addr, delta int) {
	o := denyOwner(d, ip)
	de := e.deny[o]
	if de == nil {
		de = &denyEntry{ip: ip, dir: d}
		e.deny[o] = de
	}
	de.count += delta
	if de.count <= 0 {
		delete(e.deny, o)
	}
	e.markDirty(o)
}

// ownerFlows builds the current flows of one owner (nil: none).
func (e *Engine) ownerFlows(o owner) []*of.Flow {
	if sf := e.shared[o]; sf != nil {
		return []*of.Flow{e.sharedFlow(sf)}
	}
	if c := e.conjFlows[o]; c != nil {
		table, next := ruleTables(c.rule.dir)
		return []*of.Flow{of.NewFlow(table).Cookie(CookieFor(KindRuleAllow, c.id)).
			Priority(pipeline.PolicyRulePriority).MatchConjID(c.id).Actions(of.GotoTable(next))}
	}
	if de := e.deny[o]; de != nil {
		table, _ := ruleTables(de.dir)
		b := of.NewFlow(table).Priority(pipeline.PolicyDefaultDenyPriority)
		if de.dir == Ingress {
			b.Cookie(CookieFor(KindDenyIngress, ip4Uint(de.ip))).MatchIPv4Dst(de.ip)
		} else {
			b.Cookie(CookieFor(KindDenyEgress, ip4Uint(de.ip))).MatchIPv4Src(de.ip)
		}
		return []*of.Flow{b.Drop()}
	}
	return nil
}

func (e *Engine) sharedFlow(sf *sharedFlow) *of.Flow {
	ids := make([]uint32, 0, len(sf.refs))
	for id := range sf.refs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	b := of.NewFlow(sf.table).Priority(sf.priority).Match(sf.m.apply)
	if sf.priority == pipeline.PolicyRuleDirectPriority {
		return b.Cookie(CookieFor(KindRuleAllow, ids[0])).Actions(of.GotoTable(nextAfter(sf.table)))
	}
	acts := make([]of.Action, 0, len(ids))
	for _, id := range ids {
		v := sf.refs[id]
		acts = append(acts, of.Conjunction(id, uint8(v>>8), uint8(v)))
	}
	return b.Cookie(CookieFor(KindConjunctionPart, ids[0])).Actions(acts...)
}

// nextAfter returns the table a packet allowed by a rule of the rules table
// continues in.
func nextAfter(rules uint8) uint8 {
	d := Egress
	if rules == pipeline.IngressRules.ID {
		d = Ingress
	}
	_, next := ruleTables(d)
	return next
}

func hashFlows(flows []*of.Flow) uint64 {
	h := fnv.New64a()
	for _, f := range flows {
		h.Write([]byte(f.String()))
		h.Write([]byte{'\n'})
	}
	return h.Sum64()
}

// Changes returns the flows of every owner whose desired flows changed since
// the previous call, by owner key; an empty slice means the owner has no
// flows any more.
func (e *Engine) Changes() map[string][]*of.Flow {
	out := map[string][]*of.Flow{}
	for o := range e.dirty {
		flows := e.ownerFlows(o)
		if len(flows) == 0 {
			if _, ok := e.emitted[o]; ok {
				delete(e.emitted, o)
				out[o.String()] = nil
			}
			continue
		}
		h := hashFlows(flows)
		if old, ok := e.emitted[o]; ok && old == h {
			continue
		}
		e.emitted[o] = h
		out[o.String()] = flows
	}
	clear(e.dirty)
	return out
}

// All returns every owner's current flows. It does not change what the next
// Changes reports.
func (e *Engine) All() map[string][]*of.Flow {
	out := make(map[string][]*of.Flow, len(e.shared)+len(e.conjFlows)+len(e.deny))
	for o := range e.shared {
		out[o.String()] = e.ownerFlows(o)
	}
	for o := range e.conjFlows {
		out[o.String()] = e.ownerFlows(o)
	}
	for o := range e.deny {
		out[o.String()] = e.ownerFlows(o)
	}
	return out
}
