package openflow

import "fmt"

// Field identifies a packet or pipeline field that can be matched, set or
// copied. The order of the constants is the order in which match entries are
// encoded, so that a field's prerequisites always come before it.
type Field uint8

// Fields known to this package. Names follow ovs-fields(7).
const (
	fieldNone Field = iota
	FieldConjID
	FieldInPort
	FieldEthSrc
	FieldEthDst
	FieldEthType
	FieldVLANVID
	FieldVLANPCP
	FieldIPv4Src
	FieldIPv4Dst
	FieldIPv6Src
	FieldIPv6Dst
	FieldIPDSCP
	FieldIPProto
	FieldTCPSrc
	FieldTCPDst
	FieldUDPSrc
	FieldUDPDst
	FieldSCTPSrc
	FieldSCTPDst
	FieldICMPType
	FieldICMPCode
	FieldARPOp
	FieldARPSpa
	FieldARPTpa
	FieldARPSha
	FieldARPTha
	FieldTunID
	FieldTunSrc
	FieldTunDst
	FieldReg0
	FieldReg1
	FieldReg2
	FieldReg3
	FieldReg4
	FieldReg5
	FieldReg6
	FieldReg7
	FieldReg8
	FieldReg9
	FieldReg10
	FieldReg11
	FieldReg12
	FieldReg13
	FieldReg14
	FieldReg15
	FieldXReg0
	FieldXReg1
	FieldXReg2
	FieldXReg3
	FieldXReg4
	FieldXReg5
	FieldXReg6
	FieldXReg7
	FieldXXReg0
	FieldXXReg1
	FieldXXReg2
	FieldXXReg3
	FieldPktMark
	FieldCTState
	FieldCTZone
	FieldCTMark
	FieldCTLabel
	FieldMetadata
	// Decode-only alternatives, folded into the fields above.
	fieldNXMInPort
	fieldNXMVLANTCI
	fieldNXMIPTOS
	fieldPacketType
	numFields
)

// Reg returns the field of register n (0–15).
func Reg(n int) Field { return FieldReg0 + Field(n) }

// XXReg returns the field of 128-bit register n (0–3), made of reg4n..reg4n+3.
func XXReg(n int) Field { return FieldXXReg0 + Field(n) }

// XReg returns the field of 64-bit register n (0–7), made of reg2n and reg2n+1.
func XReg(n int) Field { return FieldXReg0 + Field(n) }

type fieldFormat uint8

const (
	fmtHex fieldFormat = iota
	fmtDec
	fmtEth
	fmtIPv4
	fmtIPv6
	fmtPort
	fmtCTState
)

// OXM/NXM classes.
const (
	classNXM0       uint16 = 0x0000
	classNXM1       uint16 = 0x0001
	classOpenFlow   uint16 = 0x8000
	classPacketRegs uint16 = 0x8001
)

// fieldInfo describes one field: its names, wire header and size.
type fieldInfo struct {
	name     string // ovs-fields(7) name, used by set_field and the match text
	nxmName  string // NXM/OXM name, used by move
	class    uint16
	num      uint8
	size     int // bytes on the wire
	bits     int // significant bits
	maskable bool
	format   fieldFormat
}

// header returns the 32-bit OXM/NXM header of the field.
func (fi *fieldInfo) header(masked bool) uint32 {
	l := fi.size
	h := uint32(fi.class)<<16 | uint32(fi.num)<<9
	if masked {
		h |= 1 << 8
		l *= 2
	}
	return h | uint32(l)
}

var fields [numFields]fieldInfo

func init() {
	def := func(f Field, name, nxm string, class uint16, num uint8, size, bits int, maskable bool, format fieldFormat) {
		fields[f] = fieldInfo{name, nxm, class, num, size, bits, maskable, format}
	}
	def(FieldConjID, "conj_id", "NXM_NX_CONJ_ID", classNXM1, 37, 4, 32, false, fmtDec)
	def(FieldInPort, "in_port", "OXM_OF_IN_PORT", classOpenFlow, 0, 4, 32, false, fmtPort)
	def(FieldEthSrc, "eth_src", "NXM_OF_ETH_SRC", classOpenFlow, 4, 6, 48, true, fmtEth)
	def(FieldEthDst, "eth_dst", "NXM_OF_ETH_DST", classOpenFlow, 3, 6, 48, true, fmtEth)
	def(FieldEthType, "eth_type", "NXM_OF_ETH_TYPE", classOpenFlow, 5, 2, 16, false, fmtHex)
	def(FieldVLANVID, "vlan_vid", "OXM_OF_VLAN_VID", classOpenFlow, 6, 2, 13, true, fmtDec)
	def(FieldVLANPCP, "vlan_pcp", "OXM_OF_VLAN_PCP", classOpenFlow, 7, 1, 3, false, fmtDec)
	def(FieldIPv4Src, "ip_src", "NXM_OF_IP_SRC", classOpenFlow, 11, 4, 32, true, fmtIPv4)
	def(FieldIPv4Dst, "ip_dst", "NXM_OF_IP_DST", classOpenFlow, 12, 4, 32, true, fmtIPv4)
	def(FieldIPv6Src, "ipv6_src", "NXM_NX_IPV6_SRC", classOpenFlow, 26, 16, 128, true, fmtIPv6)
	def(FieldIPv6Dst, "ipv6_dst", "NXM_NX_IPV6_DST", classOpenFlow, 27, 16, 128, true, fmtIPv6)
	def(FieldIPDSCP, "ip_dscp", "OXM_OF_IP_DSCP", classOpenFlow, 8, 1, 6, false, fmtDec)
	def(FieldIPProto, "nw_proto", "NXM_OF_IP_PROTO", classOpenFlow, 10, 1, 8, false, fmtDec)
	def(FieldTCPSrc, "tcp_src", "NXM_OF_TCP_SRC", classOpenFlow, 13, 2, 16, true, fmtDec)
	def(FieldTCPDst, "tcp_dst", "NXM_OF_TCP_DST", classOpenFlow, 14, 2, 16, true, fmtDec)
	def(FieldUDPSrc, "udp_src", "NXM_OF_UDP_SRC", classOpenFlow, 15, 2, 16, true, fmtDec)
	def(FieldUDPDst, "udp_dst", "NXM_OF_UDP_DST", classOpenFlow, 16, 2, 16, true, fmtDec)
	def(FieldSCTPSrc, "sctp_src", "OXM_OF_SCTP_SRC", classOpenFlow, 17, 2, 16, true, fmtDec)
	def(FieldSCTPDst, "sctp_dst", "OXM_OF_SCTP_DST", classOpenFlow, 18, 2, 16, true, fmtDec)
	def(FieldICMPType, "icmp_type", "NXM_OF_ICMP_TYPE", classOpenFlow, 19, 1, 8, false, fmtDec)
	def(FieldICMPCode, "icmp_code", "NXM_OF_ICMP_CODE", classOpenFlow, 20, 1, 8, false, fmtDec)
	def(FieldARPOp, "arp_op", "NXM_OF_ARP_OP", classOpenFlow, 21, 2, 16, false, fmtDec)
	def(FieldARPSpa, "arp_spa", "NXM_OF_ARP_SPA", classOpenFlow, 22, 4, 32, true, fmtIPv4)
	def(FieldARPTpa, "arp_tpa", "NXM_OF_ARP_TPA", classOpenFlow, 23, 4, 32, true, fmtIPv4)
	def(FieldARPSha, "arp_sha", "NXM_NX_ARP_SHA", classOpenFlow, 24, 6, 48, true, fmtEth)
	def(FieldARPTha, "arp_tha", "NXM_NX_ARP_THA", classOpenFlow, 25, 6, 48, true, fmtEth)
	def(FieldTunID, "tun_id", "NXM_NX_TUN_ID", classOpenFlow, 38, 8, 64, true, fmtHex)
	def(FieldTunSrc, "tun_src", "NXM_NX_TUN_IPV4_SRC", classNXM1, 31, 4, 32, true, fmtIPv4)
	def(FieldTunDst, "tun_dst", "NXM_NX_TUN_IPV4_DST", classNXM1, 32, 4, 32, true, fmtIPv4)
	for i := 0; i < 16; i++ {
		def(Reg(i), fmt.Sprintf("reg%d", i), fmt.Sprintf("NXM_NX_REG%d", i), classNXM1, uint8(i), 4, 32, true, fmtHex)
	}
	for i := 0; i < 8; i++ {
		def(XReg(i), fmt.Sprintf("xreg%d", i), fmt.Sprintf("OXM_OF_PKT_REG%d", i), classPacketRegs, uint8(i), 8, 64, true, fmtHex)
	}
	for i := 0; i < 4; i++ {
		def(XXReg(i), fmt.Sprintf("xxreg%d", i), fmt.Sprintf("NXM_NX_XXREG%d", i), classNXM1, uint8(111+i), 16, 128, true, fmtHex)
	}
	def(FieldPktMark, "pkt_mark", "NXM_NX_PKT_MARK", classNXM1, 33, 4, 32, true, fmtHex)
	def(FieldCTState, "ct_state", "NXM_NX_CT_STATE", classNXM1, 105, 4, 32, true, fmtCTState)
	def(FieldCTZone, "ct_zone", "NXM_NX_CT_ZONE", classNXM1, 106, 2, 16, false, fmtHex)
	def(FieldCTMark, "ct_mark", "NXM_NX_CT_MARK", classNXM1, 107, 4, 32, true, fmtHex)
	def(FieldCTLabel, "ct_label", "NXM_NX_CT_LABEL", classNXM1, 108, 16, 128, true, fmtHex)
	def(FieldMetadata, "metadata", "OXM_OF_METADATA", classOpenFlow, 2, 8, 64, true, fmtHex)
	def(fieldNXMInPort, "in_port", "NXM_OF_IN_PORT", classNXM0, 0, 2, 16, false, fmtPort)
	def(fieldNXMVLANTCI, "vlan_tci", "NXM_OF_VLAN_TCI", classNXM0, 4, 2, 16, true, fmtHex)
	def(fieldNXMIPTOS, "nw_tos", "NXM_OF_IP_TOS", classNXM0, 5, 1, 8, false, fmtDec)
	def(fieldPacketType, "packet_type", "OXM_OF_PACKET_TYPE", classOpenFlow, 44, 4, 32, false, fmtHex)

	// NXM (class 0 and 1) spellings of fields that OpenFlow 1.5 sends as OXM.
	alias := func(f Field, class uint16, num uint8) { byHeader[headerKey(class, num)] = f }
	for f := Field(1); f < numFields; f++ {
		byHeader[headerKey(fields[f].class, fields[f].num)] = f
	}
	alias(FieldEthDst, classNXM0, 1)
	alias(FieldEthSrc, classNXM0, 2)
	alias(FieldEthType, classNXM0, 3)
	alias(FieldIPProto, classNXM0, 6)
	alias(FieldIPv4Src, classNXM0, 7)
	alias(FieldIPv4Dst, classNXM0, 8)
	alias(FieldTCPSrc, classNXM0, 9)
	alias(FieldTCPDst, classNXM0, 10)
	alias(FieldUDPSrc, classNXM0, 11)
	alias(FieldUDPDst, classNXM0, 12)
	alias(FieldICMPType, classNXM0, 13)
	alias(FieldICMPCode, classNXM0, 14)
	alias(FieldARPOp, classNXM0, 15)
	alias(FieldARPSpa, classNXM0, 16)
	alias(FieldARPTpa, classNXM0, 17)
	alias(FieldTunID, classNXM1, 16)
	alias(FieldARPSha, classNXM1, 17)
	alias(FieldARPTha, classNXM1, 18)
	alias(FieldIPv6Src, classNXM1, 19)
	alias(FieldIPv6Dst, classNXM1, 20)
}

// byHeader maps class<<8|field (mask bit and length stripped) to a Field.
var byHeader = map[uint32]Field{}

func headerKey(class uint16, num uint8) uint32 { return uint32(class)<<8 | uint32(num) }

// fieldByHeader looks up the field of a 32-bit OXM/NXM header and checks the
// payload length the header announces.
func fieldByHeader(h uint32) (Field, bool, error) {
	class, num, masked, l := uint16(h>>16), uint8(h>>9)&0x7f, h&(1<<8) != 0, int(h&0xff)
	f, ok := byHeader[headerKey(class, num)]
	if !ok {
		return 0, masked, fmt.Errorf("openflow: unknown field header 0x%08x", h)
	}
	want := fields[f].size
	if masked {
		want *= 2
	}
	if l != want {
		return 0, masked, fmt.Errorf("openflow: field %s header 0x%08x has length %d, want %d", fields[f].name, h, l, want)
	}
	return f, masked, nil
}

// String returns the ovs-fields(7) name of the field.
func (f Field) String() string {
	if f > fieldNone && f < numFields {
		return fields[f].name
	}
	return fmt.Sprintf("field(%d)", uint8(f))
}

// Size returns the width of the field in bytes.
func (f Field) Size() int {
	if f > fieldNone && f < numFields {
		return fields[f].size
	}
	return 0
}

// Bits returns the width of the field in bits.
func (f Field) Bits() int {
	if f > fieldNone && f < numFields {
		return fields[f].bits
	}
	return 0
}

func (f Field) valid() bool { return f > fieldNone && f < fieldNXMInPort }
