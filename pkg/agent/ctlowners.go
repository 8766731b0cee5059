package agent

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/kubefay/kubefay/pkg/agent/networkpolicy"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
)

// localPod is a pod port of the bridge as its OVS external IDs describe it.
type localPod struct {
	Key    string // namespace/name
	OFPort uint32
	MAC    string
	IP     netip.Addr
	Subnet string
}

// podsFromPorts reads the identity of every pod port.
func podsFromPorts(ports []PodPort) []localPod {
	out := make([]localPod, 0, len(ports))
	for _, p := range ports {
		ids := p.ExternalIDs
		lp := localPod{Key: ids[ExternalIDNamespace] + "/" + ids[ExternalIDPod], OFPort: p.OFPort,
			MAC: ids[ExternalIDMAC], Subnet: ids[ExternalIDSubnet]}
		if pr, err := netip.ParsePrefix(ids[ExternalIDIP]); err == nil {
			lp.IP = pr.Addr()
		}
		out = append(out, lp)
	}
	return out
}

// owners names who installed a flow from its cookie: cookies hold hashes,
// ofports and conjunction ids, so the names come from the agent's state.
type owners struct {
	pods     map[uint32]localPod   // by ofport
	named    map[uint64]string     // subnet and tunnel cookies
	private  map[uint64]bool       // cookies of private subnets
	nodeByIP map[netip.Addr]string // underlay address -> node
	rules    map[uint64]networkpolicy.RuleInfo
	// isolating returns the policies isolating a pod in a direction.
	isolating func(pod string, dir networkpolicy.Direction) []string
}

func newOwners(pods []localPod, v ClusterView, me string, rules []networkpolicy.RuleInfo) *owners {
	o := &owners{pods: map[uint32]localPod{}, named: map[uint64]string{}, private: map[uint64]bool{},
		nodeByIP: map[netip.Addr]string{}, rules: map[uint64]networkpolicy.RuleInfo{}}
	for _, p := range pods {
		o.pods[p.OFPort] = p
	}
	for node, ip := range v.NodeIPs {
		o.nodeByIP[ip] = node
		o.named[pipeline.TunnelSourceCookie(ip.String())] = "tunnel from node " + node
	}
	for _, s := range v.Subnets {
		c := pipeline.SubnetCookie(s.Name)
		o.named[c] = "subnet " + s.Name
		o.private[c] = s.Private
	}
	for _, b := range v.RemoteBlocks(me) {
		o.named[pipeline.TunnelBlockCookie(b.CIDR.String())] = fmt.Sprintf("tunnel to node %s (block %s)", o.node(b.NodeIP), b.CIDR)
	}
	for _, r := range rules {
		o.rules[r.Cookie] = r
		if r.ConjID != 0 { // clause flows carry the smallest conjunction id of theirs
			o.rules[networkpolicy.CookieFor(networkpolicy.KindConjunctionPart, r.ConjID)] = r
		}
	}
	return o
}

// node names the node with underlay address ip (the address if unknown).
func (o *owners) node(ip netip.Addr) string {
	if n, ok := o.nodeByIP[ip]; ok {
		return n
	}
	return ip.String()
}

// name says who installed the flow with cookie c, hit in table.
func (o *owners) name(c uint64, table uint8) string {
	if c&pipeline.CookieMagicMask != pipeline.CookieMagic {
		return fmt.Sprintf("not kubefay (cookie %#x)", c)
	}
	switch pipeline.FeatureOf(c) {
	case pipeline.FeatureBase:
		return "base pipeline"
	case pipeline.FeaturePod:
		if p, ok := o.pods[uint32(c&0xffffffff)]; ok {
			return "pod " + p.Key
		}
		return fmt.Sprintf("pod on port %d", c&0xffffffff)
	case pipeline.FeatureSubnet:
		n, ok := o.named[c]
		if !ok {
			return fmt.Sprintf("subnet (cookie %#x)", c)
		}
		if table == pipeline.SubnetIsolation.ID && o.private[c] {
			return "isolation of private " + n
		}
		return n
	case pipeline.FeatureTunnel:
		if c == pipeline.CookieUnknownTunnelSource {
			return "tunnel guard (outer source is no known node)"
		}
		if n, ok := o.named[c]; ok {
			return n
		}
		return fmt.Sprintf("tunnel (cookie %#x)", c)
	case pipeline.FeatureNetworkPolicy:
		return o.policyName(c)
	}
	return fmt.Sprintf("cookie %#x", c)
}

func (o *owners) policyName(c uint64) string {
	kind, low := networkpolicy.SplitCookie(c)
	r, ok := o.rules[c]
	switch kind {
	case networkpolicy.KindDenyIngress, networkpolicy.KindDenyEgress:
		dir := networkpolicy.Ingress
		if kind == networkpolicy.KindDenyEgress {
			dir = networkpolicy.Egress
		}
		pod := r.Pod
		if !ok {
			b := [4]byte{byte(low >> 24), byte(low >> 16), byte(low >> 8), byte(low)}
			pod = netip.AddrFrom4(b).String()
		}
		s := fmt.Sprintf("isolation of pod %s (%s", pod, strings.ToLower(string(dir)))
		if o.isolating != nil {
			if pols := o.isolating(pod, dir); len(pols) > 0 {
				s += "; NetworkPolicy " + strings.Join(pols, ", ")
			}
		}
		return s + ")"
	case networkpolicy.KindRuleAllow, networkpolicy.KindConjunctionPart:
		if !ok {
			return fmt.Sprintf("NetworkPolicy rule (conjunction %d)", low)
		}
		return fmt.Sprintf("NetworkPolicy %s/%s %s rule %d", r.Namespace, r.Policy, strings.ToLower(string(r.Direction)), r.RuleIndex)
	}
	return fmt.Sprintf("NetworkPolicy (cookie %#x)", c)
}

// annotate fills in every step's owner and returns the verdict in words.
// A packet from a pod port that the Classifier drops with the base
// pipeline's catch-all matched none of that pod's own sources: the pod's
// spoof guard dropped it.
func (o *owners) annotate(t *trace.Trace, p trace.Packet, v trace.Verdict) string {
	for i := range t.Passes {
		for j := range t.Passes[i].Steps {
			s := &t.Passes[i].Steps[j]
			if !s.Miss {
				s.Owner = o.name(s.Cookie, s.Table)
			}
			if pod, ok := o.pods[p.InPort]; ok && s.Table == pipeline.Classifier.ID &&
				(s.Miss || s.Cookie == pipeline.Cookie(pipeline.FeatureBase, 0)) {
				s.Owner = "spoof guard of pod " + pod.Key
			}
		}
	}
	switch v.Outcome {
	case trace.Delivered:
		if pod, ok := o.pods[v.Port]; ok {
			return fmt.Sprintf("delivered to pod %s (port %d)", pod.Key, v.Port)
		}
		return fmt.Sprintf("delivered to port %d", v.Port)
	case trace.Tunneled:
		return fmt.Sprintf("sent to node %s through tun0", o.node(v.TunnelDst))
	case trace.ToHost:
		return "to the host via gw0"
	}
	if v.Step == nil {
		return "dropped"
	}
	table := v.Step.TableName
	if table == "" {
		table = fmt.Sprint(v.Step.Table)
	}
	owner := v.Step.Owner
	if owner == "" {
		owner = "no matching flow (table miss)"
	}
	return fmt.Sprintf("dropped by %s in table %s", owner, table)
}
