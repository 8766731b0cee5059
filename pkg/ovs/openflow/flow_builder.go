package openflow

import (
	"net"
	"net/netip"
)

// Match* shortcuts of FlowBuilder; each adds the same constraint as the
// Match method of the same name (prerequisites included).

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

// MatchEthSrcMasked matches the Ethernet source address under mask.
func (b *FlowBuilder) MatchEthSrcMasked(mac, mask net.HardwareAddr) *FlowBuilder {
	b.f.Match.EthSrcMasked(mac, mask)
	return b
}

// MatchEthDst matches the Ethernet destination address.
func (b *FlowBuilder) MatchEthDst(mac net.HardwareAddr) *FlowBuilder {
	b.f.Match.EthDst(mac)
	return b
}

// MatchEthDstMasked matches the Ethernet destination address under mask.
func (b *FlowBuilder) MatchEthDstMasked(mac, mask net.HardwareAddr) *FlowBuilder {
	b.f.Match.EthDstMasked(mac, mask)
	return b
}

// MatchEthType matches the Ethernet type (e.g. EthTypeIPv4).
func (b *FlowBuilder) MatchEthType(t uint16) *FlowBuilder {
	b.f.Match.EthType(t)
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

// MatchIPv6 matches IPv6 packets (eth_type=0x86dd).
func (b *FlowBuilder) MatchIPv6() *FlowBuilder {
	b.f.Match.IPv6()
	return b
}

// MatchVLANVID matches packets with an 802.1Q header whose VLAN id is vid.
func (b *FlowBuilder) MatchVLANVID(vid uint16) *FlowBuilder {
	b.f.Match.VLANVID(vid)
	return b
}

// MatchNoVLAN matches packets without an 802.1Q header.
func (b *FlowBuilder) MatchNoVLAN() *FlowBuilder {
	b.f.Match.NoVLAN()
	return b
}

// MatchVLANPCP matches the 802.1Q priority; it implies a VLAN header.
func (b *FlowBuilder) MatchVLANPCP(pcp uint8) *FlowBuilder {
	b.f.Match.VLANPCP(pcp)
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

// MatchIPv4SrcMasked matches the IPv4 source address under an arbitrary mask.
func (b *FlowBuilder) MatchIPv4SrcMasked(ip, mask netip.Addr) *FlowBuilder {
	b.f.Match.IPv4SrcMasked(ip, mask)
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

// MatchIPv4DstMasked matches the IPv4 destination address under an arbitrary mask.
func (b *FlowBuilder) MatchIPv4DstMasked(ip, mask netip.Addr) *FlowBuilder {
	b.f.Match.IPv4DstMasked(ip, mask)
	return b
}

// MatchIPv6SrcNet matches an IPv6 source prefix (implies eth_type=ipv6).
func (b *FlowBuilder) MatchIPv6SrcNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.IPv6SrcNet(p)
	return b
}

// MatchIPv6DstNet matches an IPv6 destination prefix (implies eth_type=ipv6).
func (b *FlowBuilder) MatchIPv6DstNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.IPv6DstNet(p)
	return b
}

// MatchIPProto matches the IP protocol (implies eth_type=ip unless IPv6 is set).
func (b *FlowBuilder) MatchIPProto(p uint8) *FlowBuilder {
	b.f.Match.IPProto(p)
	return b
}

// MatchIPDSCP matches the 6-bit DSCP of the IP header (implies eth_type=ip).
func (b *FlowBuilder) MatchIPDSCP(dscp uint8) *FlowBuilder {
	b.f.Match.IPDSCP(dscp)
	return b
}

// MatchTCPSrc matches the TCP source port (implies ip,nw_proto=6).
func (b *FlowBuilder) MatchTCPSrc(port uint16) *FlowBuilder {
	b.f.Match.TCPSrc(port)
	return b
}

// MatchTCPSrcMasked matches the TCP source port under mask.
func (b *FlowBuilder) MatchTCPSrcMasked(port, mask uint16) *FlowBuilder {
	b.f.Match.TCPSrcMasked(port, mask)
	return b
}

// MatchTCPDst matches the TCP destination port (implies ip,nw_proto=6).
func (b *FlowBuilder) MatchTCPDst(port uint16) *FlowBuilder {
	b.f.Match.TCPDst(port)
	return b
}

// MatchTCPDstMasked matches the TCP destination port under mask.
func (b *FlowBuilder) MatchTCPDstMasked(port, mask uint16) *FlowBuilder {
	b.f.Match.TCPDstMasked(port, mask)
	return b
}

// MatchUDPSrc matches the UDP source port (implies ip,nw_proto=17).
func (b *FlowBuilder) MatchUDPSrc(port uint16) *FlowBuilder {
	b.f.Match.UDPSrc(port)
	return b
}

// MatchUDPSrcMasked matches the UDP source port under mask.
func (b *FlowBuilder) MatchUDPSrcMasked(port, mask uint16) *FlowBuilder {
	b.f.Match.UDPSrcMasked(port, mask)
	return b
}

// MatchUDPDst matches the UDP destination port (implies ip,nw_proto=17).
func (b *FlowBuilder) MatchUDPDst(port uint16) *FlowBuilder {
	b.f.Match.UDPDst(port)
	return b
}

// MatchUDPDstMasked matches the UDP destination port under mask.
func (b *FlowBuilder) MatchUDPDstMasked(port, mask uint16) *FlowBuilder {
	b.f.Match.UDPDstMasked(port, mask)
	return b
}

// MatchSCTPSrc matches the SCTP source port (implies ip,nw_proto=132).
func (b *FlowBuilder) MatchSCTPSrc(port uint16) *FlowBuilder {
	b.f.Match.SCTPSrc(port)
	return b
}

// MatchSCTPSrcMasked matches the SCTP source port under mask.
func (b *FlowBuilder) MatchSCTPSrcMasked(port, mask uint16) *FlowBuilder {
	b.f.Match.SCTPSrcMasked(port, mask)
	return b
}

// MatchSCTPDst matches the SCTP destination port (implies ip,nw_proto=132).
func (b *FlowBuilder) MatchSCTPDst(port uint16) *FlowBuilder {
	b.f.Match.SCTPDst(port)
	return b
}

// MatchSCTPDstMasked matches the SCTP destination port under mask.
func (b *FlowBuilder) MatchSCTPDstMasked(port, mask uint16) *FlowBuilder {
	b.f.Match.SCTPDstMasked(port, mask)
	return b
}

// MatchICMPType matches the ICMPv4 type (implies ip,nw_proto=1).
func (b *FlowBuilder) MatchICMPType(t uint8) *FlowBuilder {
	b.f.Match.ICMPType(t)
	return b
}

// MatchICMPCode matches the ICMPv4 code (implies ip,nw_proto=1).
func (b *FlowBuilder) MatchICMPCode(c uint8) *FlowBuilder {
	b.f.Match.ICMPCode(c)
	return b
}

// MatchARPOp matches the ARP opcode (implies eth_type=arp).
func (b *FlowBuilder) MatchARPOp(op uint16) *FlowBuilder {
	b.f.Match.ARPOp(op)
	return b
}

// MatchARPSpa matches the ARP sender protocol address (implies eth_type=arp).
func (b *FlowBuilder) MatchARPSpa(ip netip.Addr) *FlowBuilder {
	b.f.Match.ARPSpa(ip)
	return b
}

// MatchARPSpaNet matches the ARP sender protocol address against a prefix.
func (b *FlowBuilder) MatchARPSpaNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.ARPSpaNet(p)
	return b
}

// MatchARPTpa matches the ARP target protocol address (implies eth_type=arp).
func (b *FlowBuilder) MatchARPTpa(ip netip.Addr) *FlowBuilder {
	b.f.Match.ARPTpa(ip)
	return b
}

// MatchARPTpaNet matches the ARP target protocol address against a prefix.
func (b *FlowBuilder) MatchARPTpaNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.ARPTpaNet(p)
	return b
}

// MatchARPSha matches the ARP sender hardware address (implies eth_type=arp).
func (b *FlowBuilder) MatchARPSha(mac net.HardwareAddr) *FlowBuilder {
	b.f.Match.ARPSha(mac)
	return b
}

// MatchARPTha matches the ARP target hardware address (implies eth_type=arp).
func (b *FlowBuilder) MatchARPTha(mac net.HardwareAddr) *FlowBuilder {
	b.f.Match.ARPTha(mac)
	return b
}

// MatchTunID matches the tunnel id (VNI).
func (b *FlowBuilder) MatchTunID(id uint64) *FlowBuilder {
	b.f.Match.TunID(id)
	return b
}

// MatchTunIDMasked matches the tunnel id under mask.
func (b *FlowBuilder) MatchTunIDMasked(id, mask uint64) *FlowBuilder {
	b.f.Match.TunIDMasked(id, mask)
	return b
}

// MatchTunSrc matches the outer IPv4 source of a received tunnel packet.
func (b *FlowBuilder) MatchTunSrc(ip netip.Addr) *FlowBuilder {
	b.f.Match.TunSrc(ip)
	return b
}

// MatchTunSrcNet matches the outer IPv4 source against a prefix.
func (b *FlowBuilder) MatchTunSrcNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.TunSrcNet(p)
	return b
}

// MatchTunDst matches the outer IPv4 destination of a received tunnel packet.
func (b *FlowBuilder) MatchTunDst(ip netip.Addr) *FlowBuilder {
	b.f.Match.TunDst(ip)
	return b
}

// MatchTunDstNet matches the outer IPv4 destination against a prefix.
func (b *FlowBuilder) MatchTunDstNet(p netip.Prefix) *FlowBuilder {
	b.f.Match.TunDstNet(p)
	return b
}

// MatchReg matches register n (0–15) exactly.
func (b *FlowBuilder) MatchReg(n int, v uint32) *FlowBuilder {
	b.f.Match.Reg(n, v)
	return b
}

// MatchRegMasked matches register n (0–15) under mask.
func (b *FlowBuilder) MatchRegMasked(n int, v, mask uint32) *FlowBuilder {
	b.f.Match.RegMasked(n, v, mask)
	return b
}

// MatchRegBits matches bits start..end (inclusive) of register n against v, the
// same as OVS's reg<n>=v<<start/mask notation.
func (b *FlowBuilder) MatchRegBits(n int, v uint32, start, end int) *FlowBuilder {
	b.f.Match.RegBits(n, v, start, end)
	return b
}

// MatchXXReg matches 128-bit register n (0–3) exactly.
func (b *FlowBuilder) MatchXXReg(n int, v Uint128) *FlowBuilder {
	b.f.Match.XXReg(n, v)
	return b
}

// MatchXXRegMasked matches 128-bit register n (0–3) under mask. xxreg<n> is
// reg<4n>..reg<4n+3>, reg<4n> holding the most significant bits.
func (b *FlowBuilder) MatchXXRegMasked(n int, v, mask Uint128) *FlowBuilder {
	b.f.Match.XXRegMasked(n, v, mask)
	return b
}

// MatchMetadata matches the 64-bit metadata field exactly.
func (b *FlowBuilder) MatchMetadata(v uint64) *FlowBuilder {
	b.f.Match.Metadata(v)
	return b
}

// MatchMetadataMasked matches metadata under mask.
func (b *FlowBuilder) MatchMetadataMasked(v, mask uint64) *FlowBuilder {
	b.f.Match.MetadataMasked(v, mask)
	return b
}

// MatchConjID matches the conjunction id set by a completed conjunctive match.
func (b *FlowBuilder) MatchConjID(id uint32) *FlowBuilder {
	b.f.Match.ConjID(id)
	return b
}

// MatchPktMark matches the packet mark (skb mark).
func (b *FlowBuilder) MatchPktMark(v uint32) *FlowBuilder {
	b.f.Match.PktMark(v)
	return b
}

// MatchPktMarkMasked matches the packet mark under mask.
func (b *FlowBuilder) MatchPktMarkMasked(v, mask uint32) *FlowBuilder {
	b.f.Match.PktMarkMasked(v, mask)
	return b
}

// MatchCTState matches conntrack state bits: bits in mask must equal those in
// state. CTState(CTTracked|CTNew, CTTracked|CTNew|CTEstablished) is
// ct_state=+new-est+trk.
func (b *FlowBuilder) MatchCTState(state, mask CTState) *FlowBuilder {
	b.f.Match.CTState(state, mask)
	return b
}

// MatchCTZone matches the conntrack zone.
func (b *FlowBuilder) MatchCTZone(zone uint16) *FlowBuilder {
	b.f.Match.CTZone(zone)
	return b
}

// MatchCTMark matches the conntrack mark exactly.
func (b *FlowBuilder) MatchCTMark(v uint32) *FlowBuilder {
	b.f.Match.CTMark(v)
	return b
}

// MatchCTMarkMasked matches the conntrack mark under mask.
func (b *FlowBuilder) MatchCTMarkMasked(v, mask uint32) *FlowBuilder {
	b.f.Match.CTMarkMasked(v, mask)
	return b
}

// MatchCTLabel matches the 128-bit conntrack label exactly.
func (b *FlowBuilder) MatchCTLabel(v Uint128) *FlowBuilder {
	b.f.Match.CTLabel(v)
	return b
}

// MatchCTLabelMasked matches the conntrack label under mask.
func (b *FlowBuilder) MatchCTLabelMasked(v, mask Uint128) *FlowBuilder {
	b.f.Match.CTLabelMasked(v, mask)
	return b
}
