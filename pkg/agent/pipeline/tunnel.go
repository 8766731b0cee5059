package pipeline

import (
	"net/netip"

	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// CookieUnknownTunnelSource marks the Classifier drop of packets from tun0
// whose outer source is no known node (forged VXLAN/Geneve): its packet
// count is what was refused.
var CookieUnknownTunnelSource = Cookie(FeatureTunnel, 0)

// TunnelSourceFlows let into the pipeline the tunnel packets whose outer
// source is nodeIP, another node's underlay address: tun0 accepts datagrams
// from anyone (remote_ip=flow), so this is the only proof of origin.
func TunnelSourceFlows(nodeIP netip.Addr) []*of.Flow {
	c := TunnelSourceCookie(nodeIP.String())
	return []*of.Flow{
		of.NewFlow(Classifier.ID).Cookie(c).Priority(ClassifyKnownNodePriority).MatchInPort(TunnelOFPort).MatchIP().MatchTunSrc(nodeIP).
			Actions(FromTunnel.Load(), of.GotoTable(Conntrack.ID)),
	}
}

// TunnelFlows route an address block owned by another node into the tunnel
// with that node as the outer destination: one flow per remote block.
func TunnelFlows(b RemoteBlock) []*of.Flow {
	c := TunnelBlockCookie(b.CIDR.String())
	prio := RouteRemoteBlockPriority
	if b.CIDR.Bits() == 32 {
		prio = RouteRemoteAddressPriority // wins over the block
	}
	return []*of.Flow{
		of.NewFlow(L3Forwarding.ID).Cookie(c).Priority(prio).MatchEthDst(RouterMAC).MatchIPv4DstNet(b.CIDR).
			Actions(of.SetTunDst(b.NodeIP), OutputField.Load(TunnelOFPort), of.GotoTable(ConntrackCommit.ID)),
	}
}
