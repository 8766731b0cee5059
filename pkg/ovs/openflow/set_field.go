package openflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// SetFieldAction sets a field, or the bits of it selected by Mask (the
// OpenFlow 1.5 form of Nicira's reg_load).
type SetFieldAction struct {
	Field Field    // field to set
	Value [16]byte // big-endian, Field.Size() bytes used
	Mask  [16]byte // all ones for a full set
}

func (a *SetFieldAction) kind() actionKind { return kindApply }

// SetField sets field f to value (big-endian, f.Size() bytes).
func SetField(f Field, value []byte) *SetFieldAction {
	a := &SetFieldAction{Field: f}
	copy(a.Value[:f.Size()], value)
	for i := 0; i < f.Size(); i++ {
		a.Mask[i] = 0xff
	}
	return a
}

// SetFieldUint sets a field of up to 64 bits to v.
func SetFieldUint(f Field, v uint64) *SetFieldAction {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return SetField(f, b[8-f.Size():])
}

// LoadField writes v into bits start..end (inclusive) of field f, leaving the
// other bits alone (ovs-ofctl: load:v->field[start..end]).
func LoadField(f Field, v uint64, start, end int) *SetFieldAction {
	size := f.Size()
	if start < 0 || end < start || end >= 8*size {
		panic(fmt.Sprintf("openflow: bad bit range %d..%d for %s", start, end, f))
	}
	a := &SetFieldAction{Field: f}
	for i := start; i <= end; i++ {
		byteIdx := size - 1 - i/8
		a.Mask[byteIdx] |= 1 << (i % 8)
		if (i-start) < 64 && v>>(i-start)&1 != 0 {
			a.Value[byteIdx] |= 1 << (i % 8)
		}
	}
	return a
}

// SetReg sets register n (0–15) to v.
func SetReg(n int, v uint32) *SetFieldAction { return SetFieldUint(Reg(n), uint64(v)) }

// LoadReg writes v into bits start..end (inclusive) of register n.
func LoadReg(n int, v uint32, start, end int) *SetFieldAction {
	return LoadField(Reg(n), uint64(v), start, end)
}

// SetXXReg sets 128-bit register n (0–3).
func SetXXReg(n int, v Uint128) *SetFieldAction {
	b := v.bytes()
	return SetField(XXReg(n), b[:])
}

// SetEthSrc sets the Ethernet source address.
func SetEthSrc(mac net.HardwareAddr) *SetFieldAction { return SetField(FieldEthSrc, macBytes(mac)) }

// SetEthDst sets the Ethernet destination address.
func SetEthDst(mac net.HardwareAddr) *SetFieldAction { return SetField(FieldEthDst, macBytes(mac)) }

// SetIPv4Src sets the IPv4 source address.
func SetIPv4Src(ip netip.Addr) *SetFieldAction { return SetField(FieldIPv4Src, ip4Bytes(ip)) }

// SetIPv4Dst sets the IPv4 destination address.
func SetIPv4Dst(ip netip.Addr) *SetFieldAction { return SetField(FieldIPv4Dst, ip4Bytes(ip)) }

// SetTunID sets the tunnel id (VNI) used by the output tunnel port.
func SetTunID(id uint64) *SetFieldAction { return SetFieldUint(FieldTunID, id) }

// SetTunDst sets the remote tunnel endpoint used by a flow-based tunnel port.
func SetTunDst(ip netip.Addr) *SetFieldAction { return SetField(FieldTunDst, ip4Bytes(ip)) }

// SetTunSrc sets the local tunnel endpoint address.
func SetTunSrc(ip netip.Addr) *SetFieldAction { return SetField(FieldTunSrc, ip4Bytes(ip)) }

// SetCTMark sets the conntrack mark; valid inside CT(...).Exec with commit.
func SetCTMark(v uint32) *SetFieldAction { return SetFieldUint(FieldCTMark, uint64(v)) }

// SetCTMarkMasked sets the bits of the conntrack mark selected by mask.
func SetCTMarkMasked(v, mask uint32) *SetFieldAction {
	a := SetFieldUint(FieldCTMark, uint64(v&mask))
	binary.BigEndian.PutUint32(a.Mask[:], mask)
	return a
}

// SetCTLabel sets the conntrack label; valid inside CT(...).Exec with commit.
func SetCTLabel(v Uint128) *SetFieldAction {
	b := v.bytes()
	return SetField(FieldCTLabel, b[:])
}

// SetCTLabelMasked sets the bits of the conntrack label selected by mask.
func SetCTLabelMasked(v, mask Uint128) *SetFieldAction {
	vb, mb := v.bytes(), mask.bytes()
	a := &SetFieldAction{Field: FieldCTLabel}
	for i := range vb {
		a.Value[i] = vb[i] & mb[i]
	}
	a.Mask = mb
	return a
}

// SetPktMark sets the packet mark.
func SetPktMark(v uint32) *SetFieldAction { return SetFieldUint(FieldPktMark, uint64(v)) }

// SetMetadata sets the 64-bit metadata field.
func SetMetadata(v uint64) *SetFieldAction { return SetFieldUint(FieldMetadata, v) }

// String renders the action as ovs-ofctl does.
func (a *SetFieldAction) String() string { return actionString(a) }

func (a *SetFieldAction) format(buf *bytes.Buffer) {
	size := a.Field.Size()
	buf.WriteString("set_field:")
	formatFieldValue(buf, a.Field, a.Value[:size], a.Mask[:size])
	buf.WriteString("->")
	buf.WriteString(a.Field.String())
}

func (a *SetFieldAction) appendTo(b []byte) []byte {
	start := len(b)
	b = put16(b, actSetField)
	b = put16(b, 0)
	e := matchEntry{field: a.Field, val: a.Value, mask: a.Mask}
	b = e.appendTo(b)
	b = pad8(b, start)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// formatFieldValue renders a value like OVS's mf_format.
func formatFieldValue(buf *bytes.Buffer, f Field, val, mask []byte) {
	if isAllOnes(mask) {
		mask = nil
	} else if allZero(mask) {
		buf.WriteString("ANY")
		return
	}
	switch fields[f].format {
	case fmtEth:
		formatEthMasked(buf, val, mask)
		return
	case fmtIPv4:
		formatIPv4Masked(buf, val, mask)
		return
	case fmtIPv6:
		formatIPv6Masked(buf, val, mask)
		return
	case fmtPort:
		if mask == nil {
			p := uint32(0)
			for _, c := range val {
				p = p<<8 | uint32(c)
			}
			if len(val) == 2 && p >= 0xff00 {
				p += 0xffff0000
			}
			buf.WriteString(portString(p))
			return
		}
		formatInt(buf, val)
	case fmtDec:
		formatInt(buf, val)
	default:
		putHex(buf, val)
	}
	if mask != nil {
		buf.WriteByte('/')
		putHex(buf, mask)
	}
}

func formatInt(buf *bytes.Buffer, val []byte) {
	v := uint64(0)
	for _, c := range val {
		v = v<<8 | uint64(c)
	}
	buf.WriteString(strconv.FormatUint(v, 10))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// MoveAction copies NBits bits from Src[SrcOfs:] to Dst[DstOfs:]
// (ovs-ofctl: move:SRC[a..b]->DST[c..d]); encoded as OpenFlow 1.5 copy_field.
type MoveAction struct {
	Src, Dst       Field // source and destination fields
	SrcOfs, DstOfs int   // first bit in each
	NBits          int   // number of bits copied
}

// Move copies nbits bits from src starting at bit srcOfs to dst at bit dstOfs.
func Move(src Field, srcOfs int, dst Field, dstOfs int, nbits int) *MoveAction {
	if nbits <= 0 || srcOfs+nbits > src.Bits() || dstOfs+nbits > dst.Bits() {
		panic(fmt.Sprintf("openflow: bad move of %d bits %s[%d]->%s[%d]", nbits, src, srcOfs, dst, dstOfs))
	}
	return &MoveAction{Src: src, Dst: dst, SrcOfs: srcOfs, DstOfs: dstOfs, NBits: nbits}
}

// MoveField copies the whole of src into dst (both must have the same width).
func MoveField(src, dst Field) *MoveAction { return Move(src, 0, dst, 0, src.Bits()) }

func (a *MoveAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *MoveAction) String() string { return actionString(a) }

func (a *MoveAction) format(buf *bytes.Buffer) {
	buf.WriteString("move:")
	formatSubfield(buf, a.Src, a.SrcOfs, a.NBits)
	buf.WriteString("->")
	formatSubfield(buf, a.Dst, a.DstOfs, a.NBits)
}

func formatSubfield(buf *bytes.Buffer, f Field, ofs, nbits int) {
	if f < numFields {
		buf.WriteString(fields[f].nxmName)
	} else {
		buf.WriteString("<unknown>")
	}
	switch {
	case ofs == 0 && nbits == f.Bits():
		buf.WriteString("[]")
	case nbits == 1:
		fmt.Fprintf(buf, "[%d]", ofs)
	default:
		fmt.Fprintf(buf, "[%d..%d]", ofs, ofs+nbits-1)
	}
}

func (a *MoveAction) appendTo(b []byte) []byte {
	start := len(b)
	b = put16(b, actCopyField)
	b = put16(b, 0)
	b = put16(b, uint16(a.NBits))
	b = put16(b, uint16(a.SrcOfs))
	b = put16(b, uint16(a.DstOfs))
	b = zeros(b, 2)
	b = put32(b, fields[a.Src].header(false))
	b = put32(b, fields[a.Dst].header(false))
	b = pad8(b, start)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}
