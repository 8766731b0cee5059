package openflow

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
)

// DefaultPriority is the flow priority OVS omits from its text output.
const DefaultPriority = 0x8000

var ctStateNames = [8]string{"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"}

// String renders the match the way ovs-ofctl prints it (without priority).
func (m *Match) String() string {
	var sb bytes.Buffer
	m.format(&sb, DefaultPriority)
	return sb.String()
}

// format appends "priority=N," (unless default) and the match fields in the
// order and spelling of OVS's match_format(), without a trailing comma.
func (m *Match) format(sb *bytes.Buffer, priority uint16) {
	start := sb.Len()
	if priority != DefaultPriority {
		sb.WriteString("priority=")
		sb.WriteString(strconv.Itoa(int(priority)))
		sb.WriteByte(',')
	}
	m.fmtUint32(sb, "pkt_mark", FieldPktMark)
	if v, _, ok := m.uint(FieldConjID); ok {
		fmt.Fprintf(sb, "conj_id=%d,", v)
	}
	if v, mask, ok := m.uint(FieldCTState); ok {
		sb.WriteString("ct_state=")
		formatCTState(sb, uint32(v), uint32(mask))
		sb.WriteByte(',')
	}
	if v, mask, ok := m.uint(FieldCTZone); ok {
		if mask == 0xffff {
			fmt.Fprintf(sb, "ct_zone=%d,", v)
		} else {
			fmt.Fprintf(sb, "ct_zone=0x%x/0x%x,", v, mask)
		}
	}
	m.fmtUint32(sb, "ct_mark", FieldCTMark)
	if e, ok := m.get(FieldCTLabel); ok {
		sb.WriteString("ct_label=")
		putHex(sb, e.val[:16])
		if !isAllOnes(e.mask[:16]) {
			sb.WriteByte('/')
			putHex(sb, e.mask[:16])
		}
		sb.WriteByte(',')
	}

	ethType, hasEthType := m.ethType()
	proto, _, hasProto := m.uint(FieldIPProto)
	skipType, skipProto := false, false
	if hasEthType {
		skipType = true
		switch ethType {
		case EthTypeIPv4, EthTypeIPv6:
			suffix := ""
			name := "ip"
			if ethType == EthTypeIPv6 {
				suffix, name = "6", "ipv6"
			}
			if hasProto {
				skipProto = true
				switch uint8(proto) {
				case IPProtoICMP:
					if ethType == EthTypeIPv4 {
						name = "icmp"
					} else {
						skipProto = false
					}
				case 58:
					if ethType == EthTypeIPv6 {
						name = "icmp6"
					} else {
						skipProto = false
					}
				case IPProtoTCP:
					name = "tcp" + suffix
				case IPProtoUDP:
					name = "udp" + suffix
				case IPProtoSCTP:
					name = "sctp" + suffix
				default:
					skipProto = false
				}
			}
			sb.WriteString(name)
			sb.WriteByte(',')
		case EthTypeARP:
			sb.WriteString("arp,")
		case 0x8035:
			sb.WriteString("rarp,")
		case 0x8847:
			sb.WriteString("mpls,")
		case 0x8848:
			sb.WriteString("mplsm,")
		default:
			skipType = false
		}
	}
	for i := 0; i < 16; i++ {
		m.fmtUint32(sb, fields[Reg(i)].name, Reg(i))
	}
	if v, mask, ok := m.uint(FieldTunID); ok {
		sb.WriteString("tun_id=" + cHex(v))
		if mask != ^uint64(0) {
			sb.WriteString("/" + cHex(mask))
		}
		sb.WriteByte(',')
	}
	m.fmtIPv4(sb, "tun_src", FieldTunSrc)
	m.fmtIPv4(sb, "tun_dst", FieldTunDst)
	if v, mask, ok := m.uint(FieldMetadata); ok {
		sb.WriteString("metadata=" + cHex(v))
		if mask != ^uint64(0) {
			sb.WriteString("/" + cHex(mask))
		}
		sb.WriteByte(',')
	}
	if v, _, ok := m.uint(FieldInPort); ok {
		sb.WriteString("in_port=")
		sb.WriteString(portString(uint32(v)))
		sb.WriteByte(',')
	}
	m.fmtVLAN(sb)
	m.fmtEth(sb, "dl_src", FieldEthSrc)
	m.fmtEth(sb, "dl_dst", FieldEthDst)
	if hasEthType && !skipType {
		fmt.Fprintf(sb, "dl_type=0x%04x,", ethType)
	}
	switch ethType {
	case EthTypeIPv6:
		m.fmtIPv6(sb, "ipv6_src", FieldIPv6Src)
		m.fmtIPv6(sb, "ipv6_dst", FieldIPv6Dst)
	case EthTypeARP, 0x8035:
		m.fmtIPv4(sb, "arp_spa", FieldARPSpa)
		m.fmtIPv4(sb, "arp_tpa", FieldARPTpa)
	default:
		m.fmtIPv4(sb, "nw_src", FieldIPv4Src)
		m.fmtIPv4(sb, "nw_dst", FieldIPv4Dst)
	}
	if op, _, ok := m.uint(FieldARPOp); ok && (ethType == EthTypeARP || ethType == 0x8035) {
		fmt.Fprintf(sb, "arp_op=%d,", op)
	} else if hasProto && !skipProto {
		fmt.Fprintf(sb, "nw_proto=%d,", proto)
	}
	if ethType == EthTypeARP || ethType == 0x8035 {
		m.fmtEth(sb, "arp_sha", FieldARPSha)
		m.fmtEth(sb, "arp_tha", FieldARPTha)
	}
	if v, _, ok := m.uint(FieldIPDSCP); ok {
		fmt.Fprintf(sb, "nw_tos=%d,", v<<2)
	}
	if ethType == EthTypeIPv4 && hasProto && uint8(proto) == IPProtoICMP {
		m.fmtBE16(sb, "icmp_type", FieldICMPType)
		m.fmtBE16(sb, "icmp_code", FieldICMPCode)
	} else {
		for _, f := range []Field{FieldTCPSrc, FieldUDPSrc, FieldSCTPSrc} {
			m.fmtBE16(sb, "tp_src", f)
		}
		for _, f := range []Field{FieldTCPDst, FieldUDPDst, FieldSCTPDst} {
			m.fmtBE16(sb, "tp_dst", f)
		}
	}
	for _, r := range m.raw {
		sb.WriteString("oxm=")
		sb.WriteString(hex.EncodeToString(r))
		sb.WriteByte(',')
	}
	if sb.Len() > start {
		s := sb.String()
		if s[len(s)-1] == ',' {
			// bytes.Buffer cannot shrink; rebuild without the comma.
			trimmed := s[:len(s)-1]
			sb.Reset()
			sb.WriteString(trimmed)
		}
	}
}

func (m *Match) fmtUint32(sb *bytes.Buffer, name string, f Field) {
	if v, mask, ok := m.uint(f); ok {
		sb.WriteString(name + "=" + cHex(v))
		if mask != 0xffffffff {
			sb.WriteString("/" + cHex(mask))
		}
		sb.WriteByte(',')
	}
}

func (m *Match) fmtBE16(sb *bytes.Buffer, name string, f Field) {
	if v, mask, ok := m.uint(f); ok {
		full := uint64(1)<<(8*fields[f].size) - 1
		if mask == full {
			fmt.Fprintf(sb, "%s=%d,", name, v)
		} else {
			fmt.Fprintf(sb, "%s=0x%x/0x%x,", name, v, mask)
		}
	}
}

func (m *Match) fmtIPv4(sb *bytes.Buffer, name string, f Field) {
	if e, ok := m.get(f); ok {
		sb.WriteString(name)
		sb.WriteByte('=')
		formatIPv4Masked(sb, e.val[:4], e.mask[:4])
		sb.WriteByte(',')
	}
}

func (m *Match) fmtIPv6(sb *bytes.Buffer, name string, f Field) {
	if e, ok := m.get(f); ok {
		sb.WriteString(name)
		sb.WriteByte('=')
		formatIPv6Masked(sb, e.val[:16], e.mask[:16])
		sb.WriteByte(',')
	}
}

func (m *Match) fmtEth(sb *bytes.Buffer, name string, f Field) {
	if e, ok := m.get(f); ok {
		sb.WriteString(name)
		sb.WriteByte('=')
		formatEthMasked(sb, e.val[:6], e.mask[:6])
		sb.WriteByte(',')
	}
}

// fmtVLAN follows OVS: the OXM vlan_vid/vlan_pcp pair is shown as the TCI.
func (m *Match) fmtVLAN(sb *bytes.Buffer) {
	vid, vmask, hasVID := m.uint(FieldVLANVID)
	pcp, _, hasPCP := m.uint(FieldVLANPCP)
	if !hasVID && !hasPCP {
		return
	}
	tci, tmask := uint16(vid&0x1fff), uint16(vmask&0x1fff)
	if hasPCP {
		tci |= uint16(pcp)<<13 | 0x1000
		tmask |= 0xf000
	}
	vidMask, pcpMask, cfi := tmask&0x0fff, tmask&0xe000, tmask&0x1000
	if cfi != 0 && tci&0x1000 != 0 && (vidMask == 0 || vidMask == 0xfff) &&
		(pcpMask == 0 || pcpMask == 0xe000) && (vidMask != 0 || pcpMask != 0) {
		if vidMask != 0 {
			fmt.Fprintf(sb, "dl_vlan=%d,", tci&0xfff)
		}
		if pcpMask != 0 {
			fmt.Fprintf(sb, "dl_vlan_pcp=%d,", tci>>13)
		}
	} else if tmask == 0xffff {
		fmt.Fprintf(sb, "vlan_tci=0x%04x,", tci)
	} else {
		fmt.Fprintf(sb, "vlan_tci=0x%04x/0x%04x,", tci, tmask)
	}
}

func formatCTState(sb *bytes.Buffer, v, mask uint32) {
	if mask == 0xff {
		if v == 0 {
			sb.WriteByte('0')
			return
		}
		first := true
		bad := uint32(0)
		for f := v; f != 0; f &= f - 1 {
			bit := bits.TrailingZeros32(f)
			if bit >= 8 {
				bad |= 1 << bit
				continue
			}
			if !first {
				sb.WriteByte('|')
			}
			first = false
			sb.WriteString(ctStateNames[bit])
		}
		if bad != 0 {
			if !first {
				sb.WriteByte('|')
			}
			fmt.Fprintf(sb, "0x%x", bad)
		}
		return
	}
	if mask == 0 {
		sb.WriteString("0/0")
		return
	}
	for f := mask; f != 0; f &= f - 1 {
		bit := bits.TrailingZeros32(f)
		if v&(1<<bit) != 0 {
			sb.WriteByte('+')
		} else {
			sb.WriteByte('-')
		}
		if bit < 8 {
			sb.WriteString(ctStateNames[bit])
		} else {
			sb.WriteString("[Unknown]")
		}
	}
}

// putHex writes b like OVS's ds_put_hex: 0x and the bytes without leading
// zeros, or "0" when all bytes are zero.
func putHex(sb *bytes.Buffer, b []byte) {
	i := 0
	for i < len(b) && b[i] == 0 {
		i++
	}
	if i == len(b) {
		sb.WriteByte('0')
		return
	}
	fmt.Fprintf(sb, "0x%x", b[i])
	for _, c := range b[i+1:] {
		fmt.Fprintf(sb, "%02x", c)
	}
}

func formatEthMasked(sb *bytes.Buffer, val, mask []byte) {
	formatMAC(sb, val)
	if mask != nil && !isAllOnes(mask) {
		sb.WriteByte('/')
		formatMAC(sb, mask)
	}
}

func formatMAC(sb *bytes.Buffer, b []byte) {
	fmt.Fprintf(sb, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

func formatIPv4Masked(sb *bytes.Buffer, val, mask []byte) {
	fmt.Fprintf(sb, "%d.%d.%d.%d", val[0], val[1], val[2], val[3])
	if mask == nil || isAllOnes(mask) {
		return
	}
	mv := be32(mask)
	if ones := bits.LeadingZeros32(^mv); mv<<ones == 0 {
		fmt.Fprintf(sb, "/%d", ones)
	} else {
		fmt.Fprintf(sb, "/%d.%d.%d.%d", mask[0], mask[1], mask[2], mask[3])
	}
}

func formatIPv6Masked(sb *bytes.Buffer, val, mask []byte) {
	sb.WriteString(netip.AddrFrom16([16]byte(val)).String())
	if mask == nil || isAllOnes(mask) {
		return
	}
	ones := 0
	for ones < 128 && mask[ones/8]&(0x80>>(ones%8)) != 0 {
		ones++
	}
	cidr := true
	for i := ones; i < 128; i++ {
		if mask[i/8]&(0x80>>(i%8)) != 0 {
			cidr = false
		}
	}
	if cidr {
		fmt.Fprintf(sb, "/%d", ones)
	} else {
		sb.WriteByte('/')
		sb.WriteString(netip.AddrFrom16([16]byte(mask)).String())
	}
}

// Reserved OpenFlow 1.1+ port numbers.
const (
	PortMax        uint32 = 0xffffff00
	PortUnset      uint32 = 0xfffffff7
	PortInPort     uint32 = 0xfffffff8
	PortTable      uint32 = 0xfffffff9
	PortNormal     uint32 = 0xfffffffa
	PortFlood      uint32 = 0xfffffffb
	PortAll        uint32 = 0xfffffffc
	PortController uint32 = 0xfffffffd
	PortLocal      uint32 = 0xfffffffe
	PortAny        uint32 = 0xffffffff
)

var reservedPortNames = map[uint32]string{
	PortUnset: "UNSET", PortInPort: "IN_PORT", PortTable: "TABLE", PortNormal: "NORMAL",
	PortFlood: "FLOOD", PortAll: "ALL", PortController: "CONTROLLER", PortLocal: "LOCAL",
	PortAny: "ANY",
}

// portString renders an OpenFlow 1.1+ port number as OVS does (reserved
// ports by name, others in decimal).
func portString(p uint32) string {
	if n, ok := reservedPortNames[p]; ok {
		return n
	}
	if p >= 0xff00 && p < PortMax {
		// Outside OVS's 16-bit range; OVS maps these to NONE.
		return "ANY"
	}
	if p >= PortMax {
		return strconv.FormatUint(uint64(p-0xffff0000), 10)
	}
	return strconv.FormatUint(uint64(p), 10)
}

// cHex formats v like C's printf("%#x"): "0" for zero, else 0x-prefixed.
func cHex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}
