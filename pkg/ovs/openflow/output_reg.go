package openflow

import (
	"bytes"
	"fmt"
)

// Nicira output_reg subtypes: NXAST_OUTPUT_REG carries the source as a
// 32-bit NXM/OXM header at a fixed place, NXAST_OUTPUT_REG2 after max_len
// (OVS uses the second form for fields that only have an OXM header).
const (
	nxastOutputReg  = 15
	nxastOutputReg2 = 32
)

// outputRegLen is the size of both output_reg actions.
const outputRegLen = 24

// OutputRegAction sends the packet to the port number held in bits
// Ofs..Ofs+NBits-1 of a field (ovs-ofctl: output:NXM_NX_REG1[] or
// output:NXM_NX_REG1[0..15]).
type OutputRegAction struct {
	Field Field // field holding the port number
	Ofs   int   // first bit
	NBits int   // number of bits
	// MaxLen is the number of bytes sent when the port is CONTROLLER;
	// OutputReg sets 65535 (the whole packet). OVS does not print it.
	MaxLen uint16
}

// OutputReg outputs to the port stored in bits start..end (inclusive) of
// field f, for example OutputReg(Reg(1), 0, 31) for the whole of reg1
// (output:NXM_NX_REG1[]) or OutputReg(Reg(1), 0, 15) for its low 16 bits.
// The bit range follows LoadReg and CTAction.ZoneFrom. It panics on a range
// outside the field.
func OutputReg(f Field, start, end int) *OutputRegAction {
	if !f.valid() || start < 0 || end < start || end >= f.Bits() || end-start >= 64 {
		panic(fmt.Sprintf("openflow: bad output_reg range %s[%d..%d]", f, start, end))
	}
	return &OutputRegAction{Field: f, Ofs: start, NBits: end - start + 1, MaxLen: 0xffff}
}

func (a *OutputRegAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *OutputRegAction) String() string { return actionString(a) }

func (a *OutputRegAction) format(buf *bytes.Buffer) {
	buf.WriteString("output:")
	formatSubfield(buf, a.Field, a.Ofs, a.NBits)
}

func (a *OutputRegAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastOutputReg)
	b = put16(b, uint16(a.Ofs<<6|(a.NBits-1)))
	b = put32(b, fields[a.Field].header(false))
	b = put16(b, a.MaxLen)
	b = zeros(b, 6)
	return finishNX(b, start)
}

// parseOutputReg decodes NXAST_OUTPUT_REG and NXAST_OUTPUT_REG2; b is the
// whole action. Sources with an experimenter (8-byte) header stay raw.
func parseOutputReg(b []byte) (Action, error) {
	if len(b) != outputRegLen {
		return nil, fmt.Errorf("openflow: output_reg action length %d", len(b))
	}
	ofsNbits := be16(b[10:])
	var h uint32
	var maxLen uint16
	if be16(b[8:]) == nxastOutputReg {
		h, maxLen = be32(b[12:]), be16(b[16:])
	} else {
		maxLen, h = be16(b[12:]), be32(b[14:])
		if uint16(h>>16) == 0xffff {
			return raw(b), nil
		}
	}
	f, masked, err := fieldByHeader(h)
	if err != nil {
		return nil, err
	}
	if masked {
		return nil, fmt.Errorf("openflow: output_reg source header 0x%08x is masked", h)
	}
	a := &OutputRegAction{Field: f, Ofs: int(ofsNbits >> 6), NBits: int(ofsNbits&0x3f) + 1, MaxLen: maxLen}
	if a.Ofs+a.NBits > f.Bits() {
		return nil, fmt.Errorf("openflow: output_reg bits %d..%d outside %s", a.Ofs, a.Ofs+a.NBits-1, f)
	}
	return a, nil
}
