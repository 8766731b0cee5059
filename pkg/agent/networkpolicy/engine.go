package networkpolicy

import (
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Engine holds the node's view of pods, namespaces and policies and the
// flows they call for. It is not safe for concurrent use.
type Engine struct {
	node string

	pods         map[string]*Pod            // ns/name
	podsByNS     map[string]map[string]*Pod // ns -> ns/name -> pod
	nsLabels     map[string]labels.Set
	policies     map[string]*policy // ns/name
	specs        map[string]networkingv1.NetworkPolicySpec
	policiesByNS map[string]map[string]*policy
	// nsScoped are the rules that depend on namespace labels or on pods of
	// every namespace, by rule key.
	nsScoped map[string]*rule

	nextID   uint32
	conjByID map[uint32]*conj

	shared    map[owner]*sharedFlow // clause and direct flows by owner
	conjFlows map[owner]*conj       // conj_id flows by owner
	deny      map[owner]*denyEntry  // default denies by owner
	iso       map[string]isolation  // isolated local pods by ns/name

	// recomputed counts rule evaluations (tests, benchmarks).
	recomputed int

	dirty   map[owner]struct{}
	emitted map[owner]uint64 // hash of the flows last returned by Changes
}

type isolation struct {
	ip      netip.Addr
	in, out bool
}

// NewEngine returns an empty engine for the node named node.
func NewEngine(node string) *Engine {
	return &Engine{
		node: node, pods: map[string]*Pod{}, podsByNS: map[string]map[string]*Pod{},
		nsLabels: map[string]labels.Set{}, policies: map[string]*policy{},
		specs: map[string]networkingv1.NetworkPolicySpec{}, policiesByNS: map[string]map[string]*policy{},
		nsScoped: map[string]*rule{}, conjByID: map[uint32]*conj{}, shared: map[owner]*sharedFlow{},
		conjFlows: map[owner]*conj{}, deny: map[owner]*denyEntry{}, iso: map[string]isolation{},
		dirty: map[owner]struct{}{}, emitted: map[owner]uint64{},
	}
}

// SetPolicy adds or replaces a NetworkPolicy. Only the policy's own rules
// and the isolation of the pods it selects (or selected) are recomputed.
func (e *Engine) SetPolicy(np *networkingv1.NetworkPolicy) {
	key := np.Namespace + "/" + np.Name
	old := e.policies[key]
	if old != nil && reflect.DeepEqual(e.specs[key], np.Spec) {
		return
	}
	p := compilePolicy(np)
	if old != nil {
		prev := map[string]*rule{}
		for _, r := range old.rules {
			prev[r.key] = r
		}
		for _, r := range p.rules {
			if o := prev[r.key]; o != nil {
				r.conjs = o.conjs // keep the conjunction ids of the rule
				for _, c := range r.conjs {
					c.rule = r
				}
				delete(prev, r.key)
			}
		}
		for _, r := range prev {
			e.dropRule(r)
		}
		for _, r := range old.rules {
			delete(e.nsScoped, r.key)
		}
	}
	e.policies[key] = p
	e.specs[key] = *np.Spec.DeepCopy()
	if e.policiesByNS[p.namespace] == nil {
		e.policiesByNS[p.namespace] = map[string]*policy{}
	}
	e.policiesByNS[p.namespace][key] = p
	for _, r := range p.rules {
		if r.nsScoped {
			e.nsScoped[r.key] = r
		}
		e.syncRule(r)
	}
	e.syncIsolationOf(p.namespace, old, p)
}

// DeletePolicy removes a NetworkPolicy.
func (e *Engine) DeletePolicy(namespace, name string) {
	key := namespace + "/" + name
	old := e.policies[key]
	if old == nil {
		return
	}
	for _, r := range old.rules {
		e.dropRule(r)
		delete(e.nsScoped, r.key)
	}
	delete(e.policies, key)
	delete(e.specs, key)
	delete(e.policiesByNS[namespace], key)
	if len(e.policiesByNS[namespace]) == 0 {
		delete(e.policiesByNS, namespace)
	}
	e.syncIsolationOf(namespace, old, nil)
}

// syncIsolationOf re-evaluates the local pods of ns that old or new selects.
func (e *Engine) syncIsolationOf(ns string, old, new *policy) {
	var keys []string
	for k, p := range e.podsByNS[ns] {
		l := labels.Set(p.Labels)
		if old != nil && old.podSel.Matches(l) || new != nil && new.podSel.Matches(l) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.syncIsolation(k)
	}
}

// SetPod adds or updates a pod. Only rules whose applied-to or peer
// selectors match the old or the new pod are recomputed.
func (e *Engine) SetPod(p Pod) {
	key := p.Namespace + "/" + p.Name
	np := &Pod{Namespace: p.Namespace, Name: p.Name, Labels: maps.Clone(p.Labels), IP: p.IP, Node: p.Node,
		Ports: slices.Clone(p.Ports)}
	old := e.pods[key]
	if old != nil && podEqual(old, np) {
		return
	}
	var affected map[*rule]struct{}
	if old != nil && validIP(old) && validIP(np) && old.IP == np.IP && old.Node == np.Node && slices.Equal(old.Ports, np.Ports) {
		affected = e.rulesForLabelChange(old, np)
	} else {
		affected = e.rulesForPod(np, e.rulesForPod(old, nil))
	}
	if old != nil {
		delete(e.podsByNS[old.Namespace], key)
	}
	e.pods[key] = np
	if e.podsByNS[np.Namespace] == nil {
		e.podsByNS[np.Namespace] = map[string]*Pod{}
	}
	e.podsByNS[np.Namespace][key] = np
	e.syncRules(affected)
	e.syncIsolation(key)
}

// DeletePod removes a pod.
func (e *Engine) DeletePod(namespace, name string) {
	key := namespace + "/" + name
	old := e.pods[key]
	if old == nil {
		return
	}
	affected := e.rulesForPod(old, nil)
	delete(e.pods, key)
	delete(e.podsByNS[namespace], key)
	if len(e.podsByNS[namespace]) == 0 {
		delete(e.podsByNS, namespace)
	}
	e.syncRules(affected)
	e.syncIsolation(key)
}

// SetNamespace adds or updates a namespace's labels. Only rules with a
// namespaceSelector matching the old or new labels are recomputed.
func (e *Engine) SetNamespace(n Namespace) {
	old, known := e.nsLabels[n.Name]
	nl := labels.Set(maps.Clone(n.Labels))
	if nl == nil {
		nl = labels.Set{}
	}
	if known && maps.Equal(old, nl) {
		return
	}
	affected := e.rulesForNamespace(n.Name, old, nl)
	e.nsLabels[n.Name] = nl
	e.syncRules(affected)
}

// DeleteNamespace forgets a namespace's labels.
func (e *Engine) DeleteNamespace(name string) {
	old, known := e.nsLabels[name]
	if !known {
		return
	}
	affected := e.rulesForNamespace(name, old, nil)
	delete(e.nsLabels, name)
	e.syncRules(affected)
}

func podEqual(a, b *Pod) bool {
	return a.IP == b.IP && a.Node == b.Node && maps.Equal(a.Labels, b.Labels) && slices.Equal(a.Ports, b.Ports)
}

// rulesForPod adds to set the rules whose result depends on pod p.
func (e *Engine) rulesForPod(p *Pod, set map[*rule]struct{}) map[*rule]struct{} {
	if set == nil {
		set = map[*rule]struct{}{}
	}
	if !validIP(p) {
		return set
	}
	l := labels.Set(p.Labels)
	e.addRulesFor(p.Namespace, p.Node == e.node, func(m labelMatcher) bool { return m.Matches(l) }, set)
	for _, r := range e.nsScoped {
		// a named port of an egress rule to anywhere resolves on every pod
		if r.dir == Egress && r.anyPeer && len(p.Ports) > 0 {
			set[r] = struct{}{}
		}
	}
	return set
}

// rulesForLabelChange returns the rules whose applied-to or peer set gains
// or loses a pod whose labels (only) changed from old to np.
func (e *Engine) rulesForLabelChange(old, np *Pod) map[*rule]struct{} {
	set := map[*rule]struct{}{}
	ol, nl := labels.Set(old.Labels), labels.Set(np.Labels)
	e.addRulesFor(np.Namespace, np.Node == e.node, func(m labelMatcher) bool { return m.Matches(ol) != m.Matches(nl) }, set)
	return set
}

// addRulesFor adds to set the rules for which a pod of namespace ns (on
// this node when local) matters. affected judges each matcher that could
// select the pod: the applied-to selectors of the namespace's policies
// (local pods only), their same-namespace peer selectors, and every
// namespace-selecting peer. It is the one walk behind rulesForPod (does
// the pod match?) and rulesForLabelChange (does the answer flip?).
func (e *Engine) addRulesFor(ns string, local bool, affected func(labelMatcher) bool, set map[*rule]struct{}) {
	for _, pol := range e.policiesByNS[ns] {
		if local && affected(pol.podSel) {
			for _, r := range pol.rules {
				set[r] = struct{}{}
			}
			continue
		}
		for _, r := range pol.rules {
			for i := range r.peers {
				c := &r.peers[i]
				if !c.block && c.nsSel == nil && affected(c.podSel) {
					set[r] = struct{}{}
					break
				}
			}
		}
	}
	m := &peerOfNS{ns: ns, nsl: e.nsLabels[ns]} // one matcher, re-aimed at each peer
	for _, r := range e.nsScoped {
		for i := range r.peers {
			m.c, m.polNS = &r.peers[i], r.pol.namespace
			if m.c.nsSel != nil && affected(m) {
				set[r] = struct{}{}
				break
			}
		}
	}
}

// labelMatcher says whether a pod's labels match (a selector, a peer).
type labelMatcher interface{ Matches(labels.Labels) bool }

// peerOfNS is a namespace-selecting peer of a policy in polNS, asked about
// the pods of namespace ns (labelled nsl).
type peerOfNS struct {
	c         *peer
	polNS, ns string
	nsl       labels.Set
}

func (p *peerOfNS) Matches(l labels.Labels) bool { return p.c.selectsPod(p.polNS, p.ns, l, p.nsl) }

// rulesForNamespace returns the rules whose namespaceSelector matches a
// namespace with pods under its old or new labels.
func (e *Engine) rulesForNamespace(ns string, old, new labels.Set) map[*rule]struct{} {
	set := map[*rule]struct{}{}
	if len(e.podsByNS[ns]) == 0 {
		return set
	}
	for _, r := range e.nsScoped {
		for i := range r.peers {
			c := &r.peers[i]
			if c.nsSel != nil && (c.nsSel.Matches(old) || c.nsSel.Matches(new)) {
				set[r] = struct{}{}
				break
			}
		}
	}
	return set
}

// syncRules recomputes rules in key order (so new ids are deterministic).
func (e *Engine) syncRules(set map[*rule]struct{}) {
	rs := make([]*rule, 0, len(set))
	for r := range set {
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].key < rs[j].key })
	for _, r := range rs {
		e.syncRule(r)
	}
}

// syncRule brings the conjunctions of r in line with the current state.
func (e *Engine) syncRule(r *rule) {
	e.recomputed++
	specs := e.evalRule(r)
	keep := make(map[string]bool, len(specs))
	for i := range specs {
		keep[specs[i].split] = true
	}
	for split, c := range r.conjs {
		if !keep[split] {
			e.dropConj(c)
			delete(r.conjs, split)
		}
	}
	for i := range specs {
		s := &specs[i]
		c := r.conjs[s.split]
		if c == nil {
			e.nextID++
			c = &conj{id: e.nextID, rule: r, split: s.split}
			r.conjs[s.split] = c
			e.conjByID[c.id] = c
		}
		e.applySpec(c, s)
	}
}

func (e *Engine) dropRule(r *rule) {
	for split, c := range r.conjs {
		e.dropConj(c)
		delete(r.conjs, split)
	}
}

// syncIsolation recomputes the default denies of one pod.
func (e *Engine) syncIsolation(key string) {
	var want isolation
	if p := e.pods[key]; validIP(p) && p.Node == e.node {
		l := labels.Set(p.Labels)
		for _, pol := range e.policiesByNS[p.Namespace] {
			if (pol.isolatesIn && !want.in || pol.isolatesOut && !want.out) && pol.podSel.Matches(l) {
				want.in = want.in || pol.isolatesIn
				want.out = want.out || pol.isolatesOut
			}
		}
		if want.in || want.out {
			want.ip = p.IP
		}
	}
	have := e.iso[key]
	if have == want {
		return
	}
	if have.in {
		e.addDeny(Ingress, have.ip, -1)
	}
	if have.out {
		e.addDeny(Egress, have.ip, -1)
	}
	if want.in {
		e.addDeny(Ingress, want.ip, 1)
	}
	if want.out {
		e.addDeny(Egress, want.ip, 1)
	}
	if want.in || want.out {
		e.iso[key] = want
	} else {
		delete(e.iso, key)
	}
}

// Rules describes every conjunction and default deny the engine's flows
// carry, sorted by cookie.
func (e *Engine) Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(e.conjByID)+len(e.iso))
	for id, c := range e.conjByID {
		out = append(out, RuleInfo{Cookie: CookieFor(KindRuleAllow, id), ConjID: id, Direction: c.rule.dir,
			Namespace: c.rule.pol.namespace, Policy: c.rule.pol.name, RuleIndex: c.rule.index, Split: c.split})
	}
	for k, is := range e.iso {
		if is.in {
			out = append(out, RuleInfo{Cookie: CookieFor(KindDenyIngress, ip4Uint(is.ip)), Direction: Ingress, Pod: k})
		}
		if is.out {
			out = append(out, RuleInfo{Cookie: CookieFor(KindDenyEgress, ip4Uint(is.ip)), Direction: Egress, Pod: k})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Cookie != out[j].Cookie {
			return out[i].Cookie < out[j].Cookie
		}
		return out[i].Pod < out[j].Pod
	})
	return out
}
