package pipeline

import of "github.com/kubefay/kubefay/pkg/ovs/openflow"

// PodFlows are the five flows of one local pod: spoof guard for IP and ARP,
// its ARP answer, routed delivery (router MAC rewritten to its MAC) and
// switched delivery (its MAC to its port).
func PodFlows(p Pod) []*of.Flow {
	c := Cookie(FeaturePod, uint64(p.OFPort))
	return []*of.Flow{
		of.NewFlow(Classifier.ID).Cookie(c).Priority(ClassifyPodPriority).MatchInPort(p.OFPort).MatchEthSrc(p.MAC).MatchIPv4Src(p.IP).
			Actions(FromPod.Load(), of.GotoTable(Conntrack.ID)),
		of.NewFlow(Classifier.ID).Cookie(c).Priority(ClassifyPodPriority).MatchInPort(p.OFPort).MatchARP().
			Match(func(m *of.Match) { m.ARPSha(p.MAC).ARPSpa(p.IP) }).
			Actions(of.GotoTable(ARPResponder.ID)),
		of.NewFlow(ARPResponder.ID).Cookie(c).Priority(ARPLocalPodPriority).MatchARP().
			Match(func(m *of.Match) { m.ARPOp(1).ARPTpa(p.IP) }).
			Actions(arpReply(p.MAC, p.IP)...),
		of.NewFlow(L3Forwarding.ID).Cookie(c).Priority(RouteLocalPriority).MatchEthDst(RouterMAC).MatchIPv4Dst(p.IP).
			Actions(of.SetEthSrc(RouterMAC), of.SetEthDst(p.MAC), of.GotoTable(L2Forwarding.ID)),
		of.NewFlow(L2Forwarding.ID).Cookie(c).Priority(SwitchPriority).MatchEthDst(p.MAC).
			Actions(OutputField.Load(p.OFPort), of.GotoTable(SubnetIsolation.ID)),
	}
}
