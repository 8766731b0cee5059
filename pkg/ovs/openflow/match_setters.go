package openflow

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// Setters of Match: each adds one constraint and its prerequisites.

func macBytes(mac net.HardwareAddr) []byte {
	b := make([]byte, 6)
	copy(b, mac)
	return b
}

func ip4Bytes(ip netip.Addr) []byte {
	a := ip.Unmap().As4()
	return a[:]
}

func prefixMask4(bits int) []byte {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return binary.BigEndian.AppendUint32(nil, m)
}

// InPort matches the OpenFlow ingress port (OpenFlow 1.1+ numbering; see the
// Port* constants for reserved ports).
func (m *Match) InPort(port uint32) *Match { m.exactUint(FieldInPort, uint64(port)); return m }

// EthSrc matches the Ethernet source address.
func (m *Match) EthSrc(mac net.HardwareAddr) *Match {
	m.setBytes(FieldEthSrc, macBytes(mac), nil)
	return m
}

// EthSrcMasked matches the Ethernet source address under mask.
func (m *Match) EthSrcMasked(mac, mask net.HardwareAddr) *Match {
	m.setBytes(FieldEthSrc, macBytes(mac), macBytes(mask))
	return m
}

// EthDst matches the Ethernet destination address.
func (m *Match) EthDst(mac net.HardwareAddr) *Match {
	m.setBytes(FieldEthDst, macBytes(mac), nil)
	return m
}

// EthDstMasked matches the Ethernet destination address under mask.
func (m *Match) EthDstMasked(mac, mask net.HardwareAddr) *Match {
	m.setBytes(FieldEthDst, macBytes(mac), macBytes(mask))
	return m
}

// EthType matches the Ethernet type (e.g. EthTypeIPv4).
func (m *Match) EthType(t uint16) *Match { m.exactUint(FieldEthType, uint64(t)); return m }

// IP matches IPv4 packets (eth_type=0x0800).
func (m *Match) IP() *Match { return m.EthType(EthTypeIPv4) }

// ARP matches ARP packets (eth_type=0x0806).
func (m *Match) ARP() *Match { return m.EthType(EthTypeARP) }

// IPv6 matches IPv6 packets (eth_type=0x86dd).
func (m *Match) IPv6() *Match { return m.EthType(EthTypeIPv6) }

// VLANVID matches packets with an 802.1Q header whose VLAN id is vid.
func (m *Match) VLANVID(vid uint16) *Match {
	m.exactUint(FieldVLANVID, uint64(vid&0xfff|0x1000))
	return m
}

// NoVLAN matches packets without an 802.1Q header.
func (m *Match) NoVLAN() *Match { m.setUint(FieldVLANVID, 0, 0x1fff); return m }

// VLANPCP matches the 802.1Q priority; it implies a VLAN header.
func (m *Match) VLANPCP(pcp uint8) *Match {
	if !m.Has(FieldVLANVID) {
		m.setUint(FieldVLANVID, 0x1000, 0x1000)
	}
	m.exactUint(FieldVLANPCP, uint64(pcp&7))
	return m
}

// IPv4Src matches the IPv4 source address exactly (implies eth_type=ip).
func (m *Match) IPv4Src(ip netip.Addr) *Match {
	return m.IPv4SrcMasked(ip, netip.AddrFrom4([4]byte{255, 255, 255, 255}))
}

// IPv4SrcNet matches an IPv4 source prefix.
func (m *Match) IPv4SrcNet(p netip.Prefix) *Match {
	m.requireIP()
	m.setBytes(FieldIPv4Src, ip4Bytes(p.Addr()), prefixMask4(p.Bits()))
	return m
}

// IPv4SrcMasked matches the IPv4 source address under an arbitrary mask.
func (m *Match) IPv4SrcMasked(ip, mask netip.Addr) *Match {
	m.requireIP()
	m.setBytes(FieldIPv4Src, ip4Bytes(ip), ip4Bytes(mask))
	return m
}

// IPv4Dst matches the IPv4 destination address exactly (implies eth_type=ip).
func (m *Match) IPv4Dst(ip netip.Addr) *Match {
	return m.IPv4DstMasked(ip, netip.AddrFrom4([4]byte{255, 255, 255, 255}))
}

// IPv4DstNet matches an IPv4 destination prefix.
func (m *Match) IPv4DstNet(p netip.Prefix) *Match {
	m.requireIP()
	m.setBytes(FieldIPv4Dst, ip4Bytes(p.Addr()), prefixMask4(p.Bits()))
	return m
}

// IPv4DstMasked matches the IPv4 destination address under an arbitrary mask.
func (m *Match) IPv4DstMasked(ip, mask netip.Addr) *Match {
	m.requireIP()
	m.setBytes(FieldIPv4Dst, ip4Bytes(ip), ip4Bytes(mask))
	return m
}

func ip6Mask(bits int) []byte {
	b := make([]byte, 16)
	for i := 0; i < bits; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return b
}

// IPv6SrcNet matches an IPv6 source prefix (implies eth_type=ipv6).
func (m *Match) IPv6SrcNet(p netip.Prefix) *Match {
	m.requireEthType(EthTypeIPv6)
	a := p.Addr().As16()
	m.setBytes(FieldIPv6Src, a[:], ip6Mask(p.Bits()))
	return m
}

// IPv6DstNet matches an IPv6 destination prefix (implies eth_type=ipv6).
func (m *Match) IPv6DstNet(p netip.Prefix) *Match {
	m.requireEthType(EthTypeIPv6)
	a := p.Addr().As16()
	m.setBytes(FieldIPv6Dst, a[:], ip6Mask(p.Bits()))
	return m
}

// IPProto matches the IP protocol (implies eth_type=ip unless IPv6 is set).
func (m *Match) IPProto(p uint8) *Match {
	m.requireIP()
	m.exactUint(FieldIPProto, uint64(p))
	return m
}

// IPDSCP matches the 6-bit DSCP of the IP header (implies eth_type=ip).
func (m *Match) IPDSCP(dscp uint8) *Match {
	m.requireIP()
	m.exactUint(FieldIPDSCP, uint64(dscp&0x3f))
	return m
}

func (m *Match) l4(f Field, proto uint8, port, mask uint16) *Match {
	m.requireIPProto(proto)
	m.setUint(f, uint64(port), uint64(mask))
	return m
}

// TCPSrc matches the TCP source port (implies ip,nw_proto=6).
func (m *Match) TCPSrc(port uint16) *Match { return m.l4(FieldTCPSrc, IPProtoTCP, port, 0xffff) }

// TCPSrcMasked matches the TCP source port under mask.
func (m *Match) TCPSrcMasked(port, mask uint16) *Match {
	return m.l4(FieldTCPSrc, IPProtoTCP, port, mask)
}

// TCPDst matches the TCP destination port (implies ip,nw_proto=6).
func (m *Match) TCPDst(port uint16) *Match { return m.l4(FieldTCPDst, IPProtoTCP, port, 0xffff) }

// TCPDstMasked matches the TCP destination port under mask.
func (m *Match) TCPDstMasked(port, mask uint16) *Match {
	return m.l4(FieldTCPDst, IPProtoTCP, port, mask)
}

// UDPSrc matches the UDP source port (implies ip,nw_proto=17).
func (m *Match) UDPSrc(port uint16) *Match { return m.l4(FieldUDPSrc, IPProtoUDP, port, 0xffff) }

// UDPSrcMasked matches the UDP source port under mask.
func (m *Match) UDPSrcMasked(port, mask uint16) *Match {
	return m.l4(FieldUDPSrc, IPProtoUDP, port, mask)
}

// UDPDst matches the UDP destination port (implies ip,nw_proto=17).
func (m *Match) UDPDst(port uint16) *Match { return m.l4(FieldUDPDst, IPProtoUDP, port, 0xffff) }

// UDPDstMasked matches the UDP destination port under mask.
func (m *Match) UDPDstMasked(port, mask uint16) *Match {
	return m.l4(FieldUDPDst, IPProtoUDP, port, mask)
}

// SCTPSrc matches the SCTP source port (implies ip,nw_proto=132).
func (m *Match) SCTPSrc(port uint16) *Match { return m.l4(FieldSCTPSrc, IPProtoSCTP, port, 0xffff) }

// SCTPSrcMasked matches the SCTP source port under mask.
func (m *Match) SCTPSrcMasked(port, mask uint16) *Match {
	return m.l4(FieldSCTPSrc, IPProtoSCTP, port, mask)
}

// SCTPDst matches the SCTP destination port (implies ip,nw_proto=132).
func (m *Match) SCTPDst(port uint16) *Match { return m.l4(FieldSCTPDst, IPProtoSCTP, port, 0xffff) }

// SCTPDstMasked matches the SCTP destination port under mask.
func (m *Match) SCTPDstMasked(port, mask uint16) *Match {
	return m.l4(FieldSCTPDst, IPProtoSCTP, port, mask)
}

// ICMPType matches the ICMPv4 type (implies ip,nw_proto=1).
func (m *Match) ICMPType(t uint8) *Match {
	m.requireIPProto(IPProtoICMP)
	m.exactUint(FieldICMPType, uint64(t))
	return m
}

// ICMPCode matches the ICMPv4 code (implies ip,nw_proto=1).
func (m *Match) ICMPCode(c uint8) *Match {
	m.requireIPProto(IPProtoICMP)
	m.exactUint(FieldICMPCode, uint64(c))
	return m
}

// ARPOp matches the ARP opcode (implies eth_type=arp).
func (m *Match) ARPOp(op uint16) *Match {
	m.requireEthType(EthTypeARP)
	m.exactUint(FieldARPOp, uint64(op))
	return m
}

// ARPSpa matches the ARP sender protocol address (implies eth_type=arp).
func (m *Match) ARPSpa(ip netip.Addr) *Match {
	return m.ARPSpaNet(netip.PrefixFrom(ip, 32))
}

// ARPSpaNet matches the ARP sender protocol address against a prefix.
func (m *Match) ARPSpaNet(p netip.Prefix) *Match {
	m.requireEthType(EthTypeARP)
	m.setBytes(FieldARPSpa, ip4Bytes(p.Addr()), prefixMask4(p.Bits()))
	return m
}

// ARPTpa matches the ARP target protocol address (implies eth_type=arp).
func (m *Match) ARPTpa(ip netip.Addr) *Match {
	return m.ARPTpaNet(netip.PrefixFrom(ip, 32))
}

// ARPTpaNet matches the ARP target protocol address against a prefix.
func (m *Match) ARPTpaNet(p netip.Prefix) *Match {
	m.requireEthType(EthTypeARP)
	m.setBytes(FieldARPTpa, ip4Bytes(p.Addr()), prefixMask4(p.Bits()))
	return m
}

// ARPSha matches the ARP sender hardware address (implies eth_type=arp).
func (m *Match) ARPSha(mac net.HardwareAddr) *Match {
	m.requireEthType(EthTypeARP)
	m.setBytes(FieldARPSha, macBytes(mac), nil)
	return m
}

// ARPTha matches the ARP target hardware address (implies eth_type=arp).
func (m *Match) ARPTha(mac net.HardwareAddr) *Match {
	m.requireEthType(EthTypeARP)
	m.setBytes(FieldARPTha, macBytes(mac), nil)
	return m
}

// TunID matches the tunnel id (VNI).
func (m *Match) TunID(id uint64) *Match { m.exactUint(FieldTunID, id); return m }

// TunIDMasked matches the tunnel id under mask.
func (m *Match) TunIDMasked(id, mask uint64) *Match { m.setUint(FieldTunID, id, mask); return m }

// TunSrc matches the outer IPv4 source of a received tunnel packet.
func (m *Match) TunSrc(ip netip.Addr) *Match { m.setBytes(FieldTunSrc, ip4Bytes(ip), nil); return m }

// TunSrcNet matches the outer IPv4 source against a prefix.
func (m *Match) TunSrcNet(p netip.Prefix) *Match {
	m.setBytes(FieldTunSrc, ip4Bytes(p.Addr()), prefixMask4(p.Bits()))
	return m
}

// TunDst matches the outer IPv4 destination of a received tunnel packet.
func (m *Match) TunDst(ip netip.Addr) *Match { m.setBytes(FieldTunDst, ip4Bytes(ip), nil); return m }

// TunDstNet matches the outer IPv4 destination against a prefix.
func (m *Match) TunDstNet(p netip.Prefix) *Match {
	m.setBytes(FieldTunDst, ip4Bytes(p.Addr()), prefixMask4(p.Bits()))
	return m
}

// Reg matches register n (0–15) exactly.
func (m *Match) Reg(n int, v uint32) *Match { return m.RegMasked(n, v, ^uint32(0)) }

// RegMasked matches register n (0–15) under mask.
func (m *Match) RegMasked(n int, v, mask uint32) *Match {
	if n < 0 || n > 15 {
		panic(fmt.Sprintf("openflow: register %d out of range", n))
	}
	m.setUint(Reg(n), uint64(v), uint64(mask))
	return m
}

// RegBits matches bits start..end (inclusive) of register n against v, the
// same as OVS's reg<n>=v<<start/mask notation.
func (m *Match) RegBits(n int, v uint32, start, end int) *Match {
	mask := bitMask32(start, end)
	return m.RegMasked(n, v<<start&mask, mask)
}

func bitMask32(start, end int) uint32 {
	if start < 0 || end > 31 || start > end {
		panic(fmt.Sprintf("openflow: bad bit range %d..%d", start, end))
	}
	return (^uint32(0) >> (31 - end + start)) << start
}

// XXReg matches 128-bit register n (0–3) exactly.
func (m *Match) XXReg(n int, v Uint128) *Match {
	return m.XXRegMasked(n, v, Uint128{^uint64(0), ^uint64(0)})
}

// XXRegMasked matches 128-bit register n (0–3) under mask. xxreg<n> is
// reg<4n>..reg<4n+3>, reg<4n> holding the most significant bits.
func (m *Match) XXRegMasked(n int, v, mask Uint128) *Match {
	if n < 0 || n > 3 {
		panic(fmt.Sprintf("openflow: xxreg %d out of range", n))
	}
	vb, mb := v.bytes(), mask.bytes()
	m.setWide(XXReg(n), vb[:], mb[:])
	return m
}

// setWide splits an xreg/xxreg value into the 32-bit registers it spans.
func (m *Match) setWide(f Field, val, mask []byte) {
	var first Field
	switch {
	case f >= FieldXXReg0 && f <= FieldXXReg3:
		first = Reg(4 * int(f-FieldXXReg0))
	case f >= FieldXReg0 && f <= FieldXReg7:
		first = Reg(2 * int(f-FieldXReg0))
	default:
		m.setBytes(f, val, mask)
		return
	}
	for i := 0; i*4 < len(val); i++ {
		m.setBytes(first+Field(i), val[4*i:4*i+4], mask[4*i:4*i+4])
	}
}

// Metadata matches the 64-bit metadata field exactly.
func (m *Match) Metadata(v uint64) *Match { m.exactUint(FieldMetadata, v); return m }

// MetadataMasked matches metadata under mask.
func (m *Match) MetadataMasked(v, mask uint64) *Match { m.setUint(FieldMetadata, v, mask); return m }

// ConjID matches the conjunction id set by a completed conjunctive match.
func (m *Match) ConjID(id uint32) *Match { m.exactUint(FieldConjID, uint64(id)); return m }

// PktMark matches the packet mark (skb mark).
func (m *Match) PktMark(v uint32) *Match { m.exactUint(FieldPktMark, uint64(v)); return m }

// PktMarkMasked matches the packet mark under mask.
func (m *Match) PktMarkMasked(v, mask uint32) *Match {
	m.setUint(FieldPktMark, uint64(v), uint64(mask))
	return m
}

// CTState matches conntrack state bits: bits in mask must equal those in
// state. CTState(CTTracked|CTNew, CTTracked|CTNew|CTEstablished) is
// ct_state=+new-est+trk.
func (m *Match) CTState(state, mask CTState) *Match {
	m.setUint(FieldCTState, uint64(state), uint64(mask))
	return m
}

// CTZone matches the conntrack zone.
func (m *Match) CTZone(zone uint16) *Match { m.exactUint(FieldCTZone, uint64(zone)); return m }

// CTMark matches the conntrack mark exactly.
func (m *Match) CTMark(v uint32) *Match { m.exactUint(FieldCTMark, uint64(v)); return m }

// CTMarkMasked matches the conntrack mark under mask.
func (m *Match) CTMarkMasked(v, mask uint32) *Match {
	m.setUint(FieldCTMark, uint64(v), uint64(mask))
	return m
}

// CTLabel matches the 128-bit conntrack label exactly.
func (m *Match) CTLabel(v Uint128) *Match {
	return m.CTLabelMasked(v, Uint128{^uint64(0), ^uint64(0)})
}

// CTLabelMasked matches the conntrack label under mask.
func (m *Match) CTLabelMasked(v, mask Uint128) *Match {
	vb, mb := v.bytes(), mask.bytes()
	m.setBytes(FieldCTLabel, vb[:], mb[:])
	return m
}
