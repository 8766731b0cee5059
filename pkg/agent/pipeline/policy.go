package pipeline

import of "github.com/kubefay/kubefay/pkg/ovs/openflow"

// Priorities in the NetworkPolicy tables (EgressRules, IngressRules). Policy
// rules only allow, so every allow shares one priority; what no rule allows
// falls to a per-pod drop, and pods no policy selects fall to the table miss.
const (
	// PolicyPassPriority: established/related packets, traffic to services
	// (checked after kube-proxy's DNAT) and the node's own probes.
	PolicyPassPriority uint16 = 210
	// PolicyRulePriority: conjunction clauses and conj_id flows of rules.
	PolicyRulePriority uint16 = 200
	// PolicyRuleDirectPriority: rules with one dimension only (e.g. "allow
	// everything to these pods"), plain flows without conjunction.
	PolicyRuleDirectPriority uint16 = 190
	// PolicyDefaultDenyPriority: the drop of an isolated pod.
	PolicyDefaultDenyPriority uint16 = 100
)

// Where a packet goes once a policy table let it pass: where the table's
// miss sends it.
var (
	EgressNext  = L3Forwarding
	IngressNext = ConntrackCommit
)

// policyBaseFlows are the node-wide flows of the policy tables: what passes
// before any rule is looked at (their misses, MissFlows, let a pod that no
// policy selects through: it is not isolated).
func policyBaseFlows(n Node, c uint64) []*of.Flow {
	notNew := func(m *of.Match) { m.CTState(of.CTTracked, of.CTTracked|of.CTNew) }
	flows := []*of.Flow{
		// a connection allowed when it started stays allowed
		of.NewFlow(EgressRules.ID).Cookie(c).Priority(PolicyPassPriority).MatchIP().Match(notNew).
			Actions(of.GotoTable(EgressNext.ID)),
		of.NewFlow(IngressRules.ID).Cookie(c).Priority(PolicyPassPriority).MatchIP().Match(notNew).
			Actions(of.GotoTable(IngressNext.ID)),
	}
	// A pod's packet to a service address goes to kube-proxy on the host
	// through gw0 and comes back with the backend as destination: egress
	// policy judges it then (it enters from gw0 with the pod's source).
	for _, svc := range n.ServiceCIDRs {
		flows = append(flows, of.NewFlow(EgressRules.ID).Cookie(c).Priority(PolicyPassPriority).MatchIP().
			Match(FromPod.Match).MatchIPv4DstNet(svc).
			Actions(of.GotoTable(EgressNext.ID)))
	}
	// The node reaches its pods whatever the policies say (kubelet probes).
	if n.NodeAddress.IsValid() {
		flows = append(flows, of.NewFlow(IngressRules.ID).Cookie(c).Priority(PolicyPassPriority).MatchIP().
			MatchIPv4Src(n.NodeAddress).Actions(of.GotoTable(IngressNext.ID)))
	}
	return flows
}
