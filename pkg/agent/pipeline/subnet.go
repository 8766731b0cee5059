package pipeline

import (
	"github.com/kubefay/kubefay/pkg/ipam"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// SubnetFlows answer ARP for a subnet: its gateway, and any other address
// that is not a local pod (those have their own, higher-priority answer), is
// the distributed router. Pods send everything that leaves their L2 segment
// to the router MAC; L3Forwarding routes it in OVS (to a local pod, a remote
// node through the tunnel, or the host through gw0), so traffic between
// subnets never detours through the host and is symmetric on every node.
func SubnetFlows(n Node, s ipam.Subnet) []*of.Flow {
	c := SubnetCookie(s.Name)
	flows := []*of.Flow{
		of.NewFlow(ARPResponder.ID).Cookie(c).Priority(ARPGatewayPriority).MatchARP().
			Match(func(m *of.Match) { m.ARPOp(1).ARPTpa(s.Gateway) }).
			Actions(arpReply(RouterMAC, s.Gateway)...),
		of.NewFlow(ARPResponder.ID).Cookie(c).Priority(ARPSubnetPriority).MatchARP().
			Match(func(m *of.Match) { m.ARPOp(1).ARPTpaNet(s.CIDR) }).
			Actions(arpReplyAnyTarget(RouterMAC)...),
	}
	if s.Private {
		flows = append(flows, isolationFlows(n, s, c)...)
	}
	return flows
}

// isolationFlows make a private subnet unreachable for new connections from
// other subnets (SubnetIsolation): replies and established connections pass,
// as do its own members, the allowed prefixes and this node's own address
// (kubelet probes come from it).
func isolationFlows(n Node, s ipam.Subnet, c uint64) []*of.Flow {
	pass := of.GotoTable(IngressRules.ID)
	flows := []*of.Flow{
		of.NewFlow(SubnetIsolation.ID).Cookie(c).Priority(IsolationDropPriority).MatchIP().MatchIPv4DstNet(s.CIDR).Drop(),
		of.NewFlow(SubnetIsolation.ID).Cookie(c).Priority(IsolationAllowPriority).MatchIP().MatchIPv4DstNet(s.CIDR).
			Match(func(m *of.Match) { m.CTState(of.CTTracked, of.CTTracked|of.CTNew) }).Actions(pass),
		of.NewFlow(SubnetIsolation.ID).Cookie(c).Priority(IsolationAllowPriority).MatchIP().MatchIPv4SrcNet(s.CIDR).MatchIPv4DstNet(s.CIDR).Actions(pass),
	}
	if n.NodeAddress.IsValid() {
		flows = append(flows, of.NewFlow(SubnetIsolation.ID).Cookie(c).Priority(IsolationAllowPriority).MatchIP().
			MatchIPv4Src(n.NodeAddress).MatchIPv4DstNet(s.CIDR).Actions(pass))
	}
	for _, a := range s.AllowFrom {
		flows = append(flows, of.NewFlow(SubnetIsolation.ID).Cookie(c).Priority(IsolationAllowPriority).MatchIP().
			MatchIPv4SrcNet(a).MatchIPv4DstNet(s.CIDR).Actions(pass))
	}
	return flows
}
