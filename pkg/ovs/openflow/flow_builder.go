package openflow

import (
	"net"
	"net/netip"
)

// Match* shortcuts of FlowBuilder for the matches kubefay's flows use; each
// adds the same constraint as the Match method of the same name
// (prerequisites included). Any other match goes through FlowBuilder.Match:
//
//	NewFlow(0).Match(func(m *Match) { m.TCPDst(80).CTState(CTTracked, CTTracked) })

// MatchInPort matches the OpenFlow ingress port (OpenFlow 1.1+ numbering; see the
// Port* constants for reserved ports).
func (b *FlowBuilder) MatchInPort(port uint32) *FlowBuilder {
	b.f.Match.InPort(port)
	return b
}

// MatchEthSrc matches the Ethernet source address.
func (b *FlowBuilder) MatchEthSrc(mac net.HardwareAddr) *FlowBuilder {
	b.f.Match.EthSrc(mac)
	return b
}

// MatchEthDst matches the Ethernet destination address.
func (b *FlowBuilder) MatchEthDst(mac net.HardwareAddr) *FlowBuilder {
	b.f.Match.EthDst(mac)
	return b
}

// MatchIP matches IPv4 packets (eth_type=0x0800).
func (b *FlowBuilder) MatchIP() *FlowBuilder {
	b.f.Match.IP()
	return b
}

// MatchARP matches ARP packets (eth_type=0x0806).
func (b *FlowBuilder) MatchARP() *FlowBuilder {
	b.f.Match.ARP()
	return b
}

// MatchIPv4Src matches the IPv4 source address exactly (implies eth_type=ip).
func (b *FlowBuilder) MatchIPv4Src(ip netip.Addr) *FlowBuilder {
	b.f.Match.IPv4Src(ip)
	return b
}

// MatchIPv4SrcNet matches an IPv4 source prefix.
func (b *FlowBuilder) MatchIPv4SrcNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.IPv4SrcNet(p)
	return b
}

// MatchIPv4Dst matches the IPv4 destination address exactly (implies eth_type=ip).
func (b *FlowBuilder) MatchIPv4Dst(ip netip.Addr) *FlowBuilder {
	b.f.Match.IPv4Dst(ip)
	return b
}

// MatchIPv4DstNet matches an IPv4 destination prefix.
func (b *FlowBuilder) MatchIPv4DstNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.IPv4DstNet(p)
	return b
}

// MatchTunSrc matches the outer IPv4 source of a received tunnel packet.
func (b *FlowBuilder) MatchTunSrc(ip netip.Addr) *FlowBuilder {
	b.f.Match.TunSrc(ip)
	return b
}

// MatchConjID matches the conjunction id set by a completed conjunctive match.
func (b *FlowBuilder) MatchConjID(id uint32) *FlowBuilder {
	b.f.Match.ConjID(id)
	return b
}
