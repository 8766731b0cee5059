package networkpolicy

import (
	"net/netip"
	"sort"

	"k8s.io/apimachinery/pkg/labels"
)

// conjSpec is one conjunctive match a rule needs now: its dimensions, a nil
// peers or ports slice with the any flag set meaning "any".
type conjSpec struct {
	split   string
	applied []netip.Addr
	anyPeer bool
	peers   []netip.Prefix
	anyPort bool
	ports   []portMatch
}

func validIP(p *Pod) bool { return p != nil && p.IP.IsValid() && p.IP.Is4() }

// appliedPods returns the local pods a policy selects.
func (e *Engine) appliedPods(pol *policy) []*Pod {
	var out []*Pod
	for _, p := range e.podsByNS[pol.namespace] {
		if p.Node == e.node && validIP(p) && pol.podSel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

// peerPods returns the pods (any node) and ipBlock prefixes of a rule's peers.
func (e *Engine) peerPods(r *rule) (pods []*Pod, blocks []netip.Prefix) {
	seen := map[*Pod]bool{}
	add := func(p *Pod) {
		if validIP(p) && !seen[p] {
			seen[p] = true
			pods = append(pods, p)
		}
	}
	for i := range r.peers {
		c := &r.peers[i]
		switch {
		case c.block:
			blocks = append(blocks, c.cidrs...)
		case c.nsSel == nil:
			for _, p := range e.podsByNS[r.pol.namespace] {
				if c.podSel.Matches(labels.Set(p.Labels)) {
					add(p)
				}
			}
		default:
			for ns, pods := range e.podsByNS {
				if !c.nsSel.Matches(e.nsLabels[ns]) {
					continue
				}
				for _, p := range pods {
					if c.podSel == nil || c.podSel.Matches(labels.Set(p.Labels)) {
						add(p)
					}
				}
			}
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].IP.Less(pods[j].IP) })
	return pods, blocks
}

func addrs(pods []*Pod) []netip.Addr {
	out := make([]netip.Addr, 0, len(pods))
	for i, p := range pods {
		if i == 0 || p.IP != pods[i-1].IP {
			out = append(out, p.IP)
		}
	}
	return out
}

func prefixes(pods []*Pod, blocks []netip.Prefix) []netip.Prefix {
	set := make(map[netip.Prefix]struct{}, len(pods)+len(blocks))
	for _, p := range pods {
		set[netip.PrefixFrom(p.IP, 32)] = struct{}{}
	}
	for _, b := range blocks {
		set[b] = struct{}{}
	}
	out := make([]netip.Prefix, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Addr().Compare(out[j].Addr()); c != 0 {
			return c < 0
		}
		return out[i].Bits() < out[j].Bits()
	})
	return out
}

// portsWith returns the rule's numeric ports plus its named ports resolved on pod.
func (r *rule) portsWith(pod *Pod) []portMatch {
	ps := append(append([]portMatch(nil), r.numeric...), resolveNamed(r.named, pod)...)
	return normalizePorts(ps)
}

// portMemo caches, within one evaluation, the port set of pods with the same
// container ports (most pods of a workload share them).
type portMemo map[string]struct {
	ps  []portMatch
	key string
}

func (m portMemo) get(pod *Pod, f func(*Pod) []portMatch) ([]portMatch, string) {
	sig := portSig(pod.Ports)
	if v, ok := m[sig]; ok {
		return v.ps, v.key
	}
	ps := f(pod)
	k := portsKey(ps)
	m[sig] = struct {
		ps  []portMatch
		key string
	}{ps, k}
	return ps, k
}

func portSig(ps []NamedPort) string {
	b := make([]byte, 0, 16*len(ps))
	for _, p := range ps {
		b = append(b, p.Name...)
		b = append(b, 0)
		b = append(b, p.Protocol...)
		b = append(b, 0, byte(p.Port>>24), byte(p.Port>>16), byte(p.Port>>8), byte(p.Port), 0)
	}
	return string(b)
}

// evalRule returns the conjunctions a rule needs, sorted by split key.
func (e *Engine) evalRule(r *rule) []conjSpec {
	memo := portMemo{}
	applied := e.appliedPods(r.pol)
	if len(applied) == 0 {
		return nil
	}
	var peerPods []*Pod
	var blocks []netip.Prefix
	if !r.anyPeer {
		peerPods, blocks = e.peerPods(r)
		if len(peerPods) == 0 && len(blocks) == 0 {
			return nil
		}
	}
	var specs []conjSpec
	switch {
	case len(r.named) == 0:
		if !r.anyPort && len(r.numeric) == 0 {
			return nil
		}
		specs = append(specs, conjSpec{applied: addrs(applied), anyPeer: r.anyPeer, peers: prefixes(peerPods, blocks),
			anyPort: r.anyPort, ports: r.numeric})
	case r.dir == Ingress:
		// named ports resolve on the destination: group the selected pods
		groups := map[string]*conjSpec{}
		for _, p := range applied {
			ps, k := memo.get(p, r.portsWith)
			if len(ps) == 0 {
				continue
			}
			g := groups[k]
			if g == nil {
				g = &conjSpec{split: k, anyPeer: r.anyPeer, peers: prefixes(peerPods, blocks), ports: ps}
				groups[k] = g
			}
			g.applied = append(g.applied, p.IP)
		}
		specs = flatten(groups)
	default:
		// egress: named ports resolve on each destination pod
		groups := map[string]*conjSpec{}
		group := func(split string, ps []portMatch, key string, pfx netip.Prefix) {
			if len(ps) == 0 {
				return
			}
			k := split + key
			g := groups[k]
			if g == nil {
				g = &conjSpec{split: k, applied: addrs(applied), ports: ps}
				groups[k] = g
			}
			g.peers = append(g.peers, pfx)
		}
		if r.anyPeer {
			if len(r.numeric) > 0 {
				groups[""] = &conjSpec{applied: addrs(applied), anyPeer: true, ports: r.numeric}
			}
			onlyNamed := func(p *Pod) []portMatch { return normalizePorts(resolveNamed(r.named, p)) }
			for _, pods := range e.podsByNS {
				for _, p := range pods {
					if validIP(p) {
						ps, k := memo.get(p, onlyNamed)
						group("named:", ps, k, netip.PrefixFrom(p.IP, 32))
					}
				}
			}
		} else {
			for _, p := range peerPods {
				ps, k := memo.get(p, r.portsWith)
				group("", ps, k, netip.PrefixFrom(p.IP, 32))
			}
			for _, b := range blocks {
				group("", r.numeric, portsKey(r.numeric), b)
			}
		}
		for _, g := range groups {
			if !g.anyPeer {
				g.peers = prefixes(nil, g.peers)
			}
		}
		specs = flatten(groups)
	}
	return specs
}

func flatten(groups map[string]*conjSpec) []conjSpec {
	out := make([]conjSpec, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].split < out[j].split })
	return out
}
