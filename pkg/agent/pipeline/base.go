package pipeline

import (
	"net/netip"

	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// BaseFlows are the node-wide flows that do not depend on any object: the
// table misses (from the declaration, MissFlows), the gateway and tunnel
// classifiers, conntrack and the policy tables' passes.
func BaseFlows(n Node) []*of.Flow {
	c := Cookie(FeatureBase, 0)
	gw, tun := GatewayOFPort, TunnelOFPort
	flows := []*of.Flow{
		// Classifier: where did the packet come from? From tun0 only what
		// a known node sent passes (TunnelSourceFlows); the rest is counted
		// under its own cookie and dropped.
		of.NewFlow(Classifier.ID).Cookie(CookieUnknownTunnelSource).Priority(UnknownTunnelSourcePriority).MatchInPort(tun).Drop(),
		of.NewFlow(Classifier.ID).Cookie(c).Priority(ClassifyGatewayPriority).MatchInPort(gw).MatchIP().
			Actions(FromGateway.Load(), of.GotoTable(Conntrack.ID)),
		of.NewFlow(Classifier.ID).Cookie(c).Priority(ClassifyGatewayPriority).MatchInPort(gw).MatchARP().
			Actions(of.GotoTable(ARPResponder.ID)),

		// Conntrack: every IP packet is tracked in kubefay's zone.
		of.NewFlow(Conntrack.ID).Cookie(c).Priority(ConntrackIPPriority).MatchIP().
			Actions(of.CT().ZoneImm(CTZone).Table(ConntrackState.ID)),

		// ConntrackState: invalid packets die; replies of connections that
		// entered from gw0 (e.g. service traffic kube-proxy DNATed on the
		// host) go back to gw0 so the host can undo its NAT — unless they
		// come from gw0 themselves (routed between subnets by the host),
		// which would loop them between OVS and the host.
		of.NewFlow(ConntrackState.ID).Cookie(c).Priority(CTInvalidPriority).MatchIP().
			Match(func(m *of.Match) { m.CTState(of.CTTracked|of.CTInvalid, of.CTTracked|of.CTInvalid) }).Drop(),
		of.NewFlow(ConntrackState.ID).Cookie(c).Priority(CTReplyFromGatewayPriority).MatchIP().
			Match(func(m *of.Match) {
				m.CTState(of.CTTracked|of.CTReply, of.CTTracked|of.CTReply)
				FromGateway.Match(m)
			}).
			Actions(of.GotoTable(EgressRules.ID)),
		of.NewFlow(ConntrackState.ID).Cookie(c).Priority(CTReplyToGatewayPriority).MatchIP().
			Match(func(m *of.Match) {
				m.CTState(of.CTTracked|of.CTReply, of.CTTracked|of.CTReply)
				m.CTMarkMasked(CTMarkFromGateway, CTMarkFromGateway)
			}).
			Actions(of.SetEthDst(n.GatewayMAC), OutputField.Load(gw), of.GotoTable(Output.ID)),
		// A pod that still has gw0's MAC for its gateway (learned before an
		// upgrade) is routed like one that has the router MAC.
		of.NewFlow(ConntrackState.ID).Cookie(c).Priority(OldGatewayMACPriority).MatchEthDst(n.GatewayMAC).
			Match(FromPod.Match).
			Actions(of.SetEthDst(RouterMAC), of.GotoTable(EgressRules.ID)),

		// L3Forwarding: routed traffic for no pod of the cluster (the host,
		// services, the outside) goes to the host through gw0.
		of.NewFlow(L3Forwarding.ID).Cookie(c).Priority(RouteToHostPriority).MatchEthDst(RouterMAC).
			Actions(of.SetEthSrc(RouterMAC), of.SetEthDst(n.GatewayMAC), of.GotoTable(L2Forwarding.ID)),
		// A router never forwards the limited broadcast (RFC 1812
		// 5.3.5.1): a pod's 255.255.255.255 sent to the router MAC (a
		// crafted DHCPDISCOVER) would reach the host's sockets.
		of.NewFlow(L3Forwarding.ID).Cookie(c).Priority(LimitedBroadcastPriority).MatchEthDst(RouterMAC).MatchIPv4Dst(limitedBroadcast).Drop(),

		// L2Forwarding: gw0 is a port like the pods'.
		of.NewFlow(L2Forwarding.ID).Cookie(c).Priority(SwitchPriority).MatchEthDst(n.GatewayMAC).
			Actions(OutputField.Load(gw), of.GotoTable(SubnetIsolation.ID)),

		// ConntrackCommit: new connections are committed once they passed
		// policy; those that came from gw0 are marked.
		of.NewFlow(ConntrackCommit.ID).Cookie(c).Priority(CommitFromGatewayPriority).MatchIP().
			Match(func(m *of.Match) {
				m.CTState(of.CTTracked|of.CTNew, of.CTTracked|of.CTNew)
				FromGateway.Match(m)
			}).
			Actions(of.CT().Commit().ZoneImm(CTZone).Exec(of.SetCTMarkMasked(CTMarkFromGateway, CTMarkFromGateway)), of.GotoTable(Output.ID)),
		of.NewFlow(ConntrackCommit.ID).Cookie(c).Priority(CommitPriority).MatchIP().
			Match(func(m *of.Match) { m.CTState(of.CTTracked|of.CTNew, of.CTTracked|of.CTNew) }).
			Actions(of.CT().Commit().ZoneImm(CTZone), of.GotoTable(Output.ID)),
	}
	flows = append(flows, MissFlows(c)...)
	flows = append(flows, policyBaseFlows(n, c)...)
	if n.NodeAddress.IsValid() {
		flows = append(flows,
			of.NewFlow(ARPResponder.ID).Cookie(c).Priority(ARPNodeAddressPriority).MatchARP().
				Match(func(m *of.Match) { m.ARPOp(1).ARPTpa(n.NodeAddress) }).
				Actions(arpReply(n.GatewayMAC, n.NodeAddress)...),
			of.NewFlow(L3Forwarding.ID).Cookie(c).Priority(RouteLocalPriority).MatchEthDst(RouterMAC).MatchIPv4Dst(n.NodeAddress).
				Actions(of.SetEthDst(n.GatewayMAC), of.GotoTable(L2Forwarding.ID)))
	}
	return flows
}

// arpReply turns an ARP request for ip into the reply "ip is at mac" and
// sends it back where it came from.
func arpReply(mac []byte, ip interface{ As4() [4]byte }) []of.Action {
	a := ip.As4()
	return []of.Action{
		of.MoveField(of.FieldEthSrc, of.FieldEthDst),
		of.SetEthSrc(mac),
		of.SetFieldUint(of.FieldARPOp, 2),
		of.MoveField(of.FieldARPSha, of.FieldARPTha),
		of.SetField(of.FieldARPSha, mac),
		of.MoveField(of.FieldARPSpa, of.FieldARPTpa),
		of.SetField(of.FieldARPSpa, a[:]),
		of.OutputInPort(),
	}
}

// arpReplyAnyTarget answers an ARP request for any address with mac: the
// requested address becomes the sender (swapped through reg2).
func arpReplyAnyTarget(mac []byte) []of.Action {
	return []of.Action{
		of.MoveField(of.FieldEthSrc, of.FieldEthDst),
		of.SetEthSrc(mac),
		of.SetFieldUint(of.FieldARPOp, 2),
		of.MoveField(of.FieldARPSha, of.FieldARPTha),
		of.SetField(of.FieldARPSha, mac),
		of.MoveField(of.FieldARPTpa, of.Reg(2)),
		of.MoveField(of.FieldARPSpa, of.FieldARPTpa),
		of.MoveField(of.Reg(2), of.FieldARPSpa),
		of.OutputInPort(),
	}
}
