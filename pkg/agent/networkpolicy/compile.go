package networkpolicy

import (
	"fmt"
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// policy is a NetworkPolicy compiled for evaluation.
type policy struct {
	namespace, name string
	podSel          labels.Selector
	// isolates says which directions the policy isolates its pods in.
	isolatesIn, isolatesOut bool
	rules                   []*rule
}

// rule is one ingress or egress rule of a policy.
type rule struct {
	key      string // <ns>/<name>/<in|out>/<index>
	pol      *policy
	dir      Direction
	index    int
	anyPeer  bool // empty from/to: every source/destination
	peers    []peer
	numeric  []portMatch // numeric ports; with named empty too: any port
	named    []rulePort
	anyPort  bool             // no ports listed
	nsScoped bool             // depends on namespace labels or on pods of every namespace
	conjs    map[string]*conj // current conjunctions by split key
}

// peer is one entry of from/to.
type peer struct {
	podSel labels.Selector // nil: every pod (of the selected namespaces)
	nsSel  labels.Selector // nil: the policy's namespace only
	block  bool
	cidrs  []netip.Prefix // ipBlock minus except
}

func selector(s *metav1.LabelSelector) labels.Selector {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return labels.Nothing() // an invalid selector selects nothing
	}
	return sel
}

func compilePolicy(np *networkingv1.NetworkPolicy) *policy {
	p := &policy{namespace: np.Namespace, name: np.Name, podSel: selector(&np.Spec.PodSelector)}
	if len(np.Spec.PolicyTypes) == 0 {
		p.isolatesIn = true
		p.isolatesOut = len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.isolatesIn = true
		case networkingv1.PolicyTypeEgress:
			p.isolatesOut = true
		}
	}
	if p.isolatesIn {
		for i, r := range np.Spec.Ingress {
			p.rules = append(p.rules, p.compileRule(Ingress, i, r.From, r.Ports))
		}
	}
	if p.isolatesOut {
		for i, r := range np.Spec.Egress {
			p.rules = append(p.rules, p.compileRule(Egress, i, r.To, r.Ports))
		}
	}
	return p
}

func (p *policy) compileRule(dir Direction, i int, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) *rule {
	d := "in"
	if dir == Egress {
		d = "out"
	}
	r := &rule{key: fmt.Sprintf("%s/%s/%s/%d", p.namespace, p.name, d, i), pol: p, dir: dir, index: i,
		anyPeer: len(peers) == 0, anyPort: len(ports) == 0, conjs: map[string]*conj{}}
	r.numeric, r.named = compilePorts(ports)
	for _, pe := range peers {
		var c peer
		switch {
		case pe.IPBlock != nil:
			c.block = true
			if cidr, err := netip.ParsePrefix(pe.IPBlock.CIDR); err == nil && cidr.Addr().Is4() {
				var ex []netip.Prefix
				for _, e := range pe.IPBlock.Except {
					if x, err := netip.ParsePrefix(e); err == nil {
						ex = append(ex, x)
					}
				}
				c.cidrs = subtractPrefixes(cidr, ex)
			}
		default:
			if pe.PodSelector != nil {
				c.podSel = selector(pe.PodSelector)
			}
			if pe.NamespaceSelector != nil {
				c.nsSel = selector(pe.NamespaceSelector)
				r.nsScoped = true
			}
			if c.podSel == nil && c.nsSel == nil { // an empty peer: invalid, selects nothing
				c.podSel = labels.Nothing()
			}
		}
		r.peers = append(r.peers, c)
	}
	// Egress to anywhere on a named port: the port is resolved on every pod
	// of the cluster.
	if dir == Egress && r.anyPeer && len(r.named) > 0 {
		r.nsScoped = true
	}
	return r
}

// selectsPod reports whether a peer selects a pod of namespace ns with
// labels l, the namespace having labels nsl; polNS is the policy's namespace.
func (c *peer) selectsPod(polNS, ns string, l labels.Labels, nsl labels.Set) bool {
	if c.block {
		return false
	}
	if c.nsSel == nil {
		if ns != polNS {
			return false
		}
	} else if !c.nsSel.Matches(nsl) {
		return false
	}
	return c.podSel == nil || c.podSel.Matches(l)
}
