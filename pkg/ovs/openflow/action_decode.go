package openflow

import (
	"fmt"
	"net/netip"
)

// maxActionDepth bounds nesting (write_actions, ct exec) in decoders.
const maxActionDepth = 4

// parseInstructions decodes an OpenFlow 1.5 instruction list into the flat
// action list ovs-ofctl prints.
func parseInstructions(b []byte) ([]Action, error) {
	var acts []Action
	var tail []Action
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, ErrShort
		}
		typ, l := be16(b), int(be16(b[2:]))
		if l < 8 || l%8 != 0 || l > len(b) {
			return nil, fmt.Errorf("openflow: bad instruction length %d", l)
		}
		body := b[:l]
		b = b[l:]
		switch typ {
		case instApplyActions:
			a, err := parseActions(body[8:], 0)
			if err != nil {
				return nil, err
			}
			acts = append(acts, a...)
		case instWriteActions:
			a, err := parseActions(body[8:], 0)
			if err != nil {
				return nil, err
			}
			tail = append(tail, &WriteActionsAction{Actions: a})
		case instClearActions:
			tail = append(tail, &ClearActionsAction{})
		case instGotoTable:
			tail = append(tail, &GotoTableAction{Table: body[4]})
		case instWriteMetadata:
			if l < 24 {
				return nil, fmt.Errorf("openflow: write_metadata length %d", l)
			}
			tail = append(tail, &WriteMetadataAction{Value: be64(body[8:]), Mask: be64(body[16:])})
		default:
			tail = append(tail, &rawAction{data: append([]byte(nil), body...), k: kindRawInstruction})
		}
	}
	return sortActions(append(acts, tail...)), nil
}

// parseActions decodes an action list.
func parseActions(b []byte, depth int) ([]Action, error) {
	if depth > maxActionDepth {
		return nil, fmt.Errorf("openflow: actions nested too deeply")
	}
	var acts []Action
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, ErrShort
		}
		l := int(be16(b[2:]))
		if l < 8 || l%8 != 0 || l > len(b) {
			return nil, fmt.Errorf("openflow: bad action length %d", l)
		}
		a, err := parseAction(b[:l], depth)
		if err != nil {
			return nil, err
		}
		acts = append(acts, a)
		b = b[l:]
	}
	return acts, nil
}

func raw(b []byte) Action { return &rawAction{data: append([]byte(nil), b...)} }

func parseAction(b []byte, depth int) (Action, error) {
	l := len(b)
	switch be16(b) {
	case actOutput:
		if l != 16 {
			return nil, fmt.Errorf("openflow: output action length %d", l)
		}
		return &OutputAction{Port: be32(b[4:]), MaxLen: be16(b[8:])}, nil
	case actGroup:
		return &GroupAction{ID: be32(b[4:])}, nil
	case actDecNwTTL:
		return DecTTL(), nil
	case actPopVLAN:
		return PopVLAN(), nil
	case actPushVLAN:
		return &PushVLANAction{EtherType: be16(b[4:])}, nil
	case actSetField:
		return parseSetField(b)
	case actCopyField:
		return parseCopyField(b)
	case actExperiment:
		if l < 16 {
			return nil, fmt.Errorf("openflow: experimenter action length %d", l)
		}
		if be32(b[4:]) != nxVendorID {
			return raw(b), nil
		}
		return parseNXAction(b, depth)
	}
	return raw(b), nil
}

func parseSetField(b []byte) (Action, error) {
	if len(b) < 8 {
		return nil, ErrShort
	}
	h := be32(b[4:])
	if uint16(h>>16) == 0xffff {
		return raw(b), nil
	}
	f, masked, err := fieldByHeader(h)
	if err != nil {
		return raw(b), nil
	}
	size := fields[f].size
	need := 8 + size
	if masked {
		need += size
	}
	if len(b) < need {
		return nil, ErrShort
	}
	a := &SetFieldAction{Field: f}
	copy(a.Value[:size], b[8:8+size])
	if masked {
		copy(a.Mask[:size], b[8+size:8+2*size])
	} else {
		for i := 0; i < size; i++ {
			a.Mask[i] = 0xff
		}
	}
	return a, nil
}

func parseCopyField(b []byte) (Action, error) {
	if len(b) < 20 {
		return nil, ErrShort
	}
	nbits, srcOfs, dstOfs := int(be16(b[4:])), int(be16(b[6:])), int(be16(b[8:]))
	src, _, err1 := fieldByHeader(be32(b[12:]))
	dst, _, err2 := fieldByHeader(be32(b[16:]))
	if err1 != nil || err2 != nil {
		return raw(b), nil
	}
	if nbits == 0 || srcOfs+nbits > src.Bits() || dstOfs+nbits > dst.Bits() {
		return nil, fmt.Errorf("openflow: copy_field of %d bits out of range", nbits)
	}
	return &MoveAction{Src: src, Dst: dst, SrcOfs: srcOfs, DstOfs: dstOfs, NBits: nbits}, nil
}

func parseNXAction(b []byte, depth int) (Action, error) {
	switch be16(b[8:]) {
	case nxastResubmit, nxastResubmitTable:
		a := &ResubmitAction{Port: port10To11(be16(b[10:])), Table: 255}
		if be16(b[8:]) == nxastResubmitTable {
			a.Table = b[12]
		}
		return a, nil
	case nxastNote:
		return &NoteAction{Data: append([]byte(nil), b[10:]...)}, nil
	case nxastConjunction:
		clause, n := b[10], b[11]
		if n < 2 || n > 64 || clause >= n {
			return nil, fmt.Errorf("openflow: bad conjunction %d/%d", clause+1, n)
		}
		return &ConjunctionAction{ID: be32(b[12:]), Clause: clause + 1, NClauses: n}, nil
	case nxastCTClear:
		return ctClearAction{}, nil
	case nxastCT:
		return parseCT(b, depth)
	case nxastNAT:
		return parseNAT(b)
	case nxastOutputReg, nxastOutputReg2:
		return parseOutputReg(b)
	}
	return raw(b), nil
}

func parseCT(b []byte, depth int) (Action, error) {
	if len(b) < 24 {
		return nil, ErrShort
	}
	a := &CTAction{Flags: be16(b[10:]), RecircTable: b[18], Alg: be16(b[22:])}
	if zs := be32(b[12:]); zs != 0 {
		f, _, err := fieldByHeader(zs)
		if err != nil {
			return nil, err
		}
		ofsNbits := be16(b[16:])
		a.ZoneField, a.ZoneOfs, a.ZoneBits = f, int(ofsNbits>>6), int(ofsNbits&0x3f)+1
		if a.ZoneOfs+a.ZoneBits > f.Bits() {
			return nil, fmt.Errorf("openflow: ct zone bits out of range")
		}
	} else {
		a.Zone = be16(b[16:])
	}
	nested, err := parseActions(b[24:], depth+1)
	if err != nil {
		return nil, err
	}
	a.Actions = nested
	return a, nil
}

func parseNAT(b []byte) (Action, error) {
	a := &NATAction{Flags: be16(b[12:])}
	present := be16(b[14:])
	opt := b[16:]
	take := func(n int) ([]byte, error) {
		if len(opt) < n {
			return nil, ErrShort
		}
		v := opt[:n]
		opt = opt[n:]
		return v, nil
	}
	if present&natRangeIPv4Min != 0 {
		v, err := take(4)
		if err != nil {
			return nil, err
		}
		a.MinIP = netip.AddrFrom4([4]byte(v))
		if present&natRangeIPv4Max != 0 {
			if v, err = take(4); err != nil {
				return nil, err
			}
			a.MaxIP = netip.AddrFrom4([4]byte(v))
		}
	} else if present&natRangeIPv6Min != 0 {
		v, err := take(16)
		if err != nil {
			return nil, err
		}
		a.MinIP = netip.AddrFrom16([16]byte(v))
		if present&natRangeIPv6Max != 0 {
			if v, err = take(16); err != nil {
				return nil, err
			}
			a.MaxIP = netip.AddrFrom16([16]byte(v))
		}
	}
	if present&natRangeProtoMin != 0 {
		v, err := take(2)
		if err != nil {
			return nil, err
		}
		a.MinPort = be16(v)
		if present&natRangeProtoMax != 0 {
			if v, err = take(2); err != nil {
				return nil, err
			}
			a.MaxPort = be16(v)
		}
	}
	return a, nil
}
