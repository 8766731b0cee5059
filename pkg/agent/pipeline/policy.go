package pipeline

import of "github.com/kubefay/kubefay/pkg/ovs/openflow"

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
