package openflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// ofp_match type OFPMT_OXM.
const matchTypeOXM = 1

// appendMatch encodes m as an OpenFlow 1.5 ofp_match (OXM), padded to 8 bytes.
func (m *Match) appendTo(b []byte) []byte {
	start := len(b)
	b = put16(b, matchTypeOXM)
	b = put16(b, 0)
	for i := range m.entries {
		b = m.entries[i].appendTo(b)
	}
	for _, r := range m.raw {
		b = append(b, r...)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return pad8(b, start)
}

func isAllOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func (e *matchEntry) appendTo(b []byte) []byte {
	fi := &fields[e.field]
	size := fi.size
	val, mask := e.val[:size], e.mask[:size]
	if e.field == FieldVLANVID && be16(mask) == 0x1fff {
		mask = []byte{0xff, 0xff}
	}
	masked := !isAllOnes(mask)
	b = put32(b, fi.header(masked))
	b = append(b, val...)
	if masked {
		b = append(b, mask...)
	}
	return b
}

// parseMatch decodes an ofp_match at the start of b and returns the number of
// bytes it occupies (padding included).
func parseMatch(b []byte) (Match, int, error) {
	var m Match
	if len(b) < 4 {
		return m, 0, ErrShort
	}
	typ, l := be16(b), int(be16(b[2:]))
	if typ != matchTypeOXM {
		return m, 0, fmt.Errorf("openflow: match type %d is not OXM", typ)
	}
	if l < 4 {
		return m, 0, fmt.Errorf("openflow: match length %d too small", l)
	}
	padded := (l + 7) &^ 7
	if padded > len(b) {
		return m, 0, ErrShort
	}
	if err := m.parseOXM(b[4:l]); err != nil {
		return m, 0, err
	}
	return m, padded, nil
}

// parseOXM decodes a sequence of OXM/NXM entries into m.
func (m *Match) parseOXM(b []byte) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return ErrShort
		}
		h := be32(b)
		hl := 4
		if uint16(h>>16) == 0xffff {
			hl = 8
		}
		l := int(h & 0xff)
		if len(b) < hl+l || l < hl-4 {
			return ErrShort
		}
		entry := b[:hl+l]
		b = b[hl+l:]
		if hl == 8 {
			m.raw = append(m.raw, append([]byte(nil), entry...))
			continue
		}
		f, masked, err := fieldByHeader(h)
		if err != nil {
			m.raw = append(m.raw, append([]byte(nil), entry...))
			continue
		}
		size := fields[f].size
		val := entry[4 : 4+size]
		var mask []byte
		if masked {
			if !fields[f].maskable && f != fieldNXMVLANTCI {
				return fmt.Errorf("openflow: field %s is not maskable", fields[f].name)
			}
			mask = entry[4+size : 4+2*size]
		}
		if err := m.addDecoded(f, val, mask); err != nil {
			return err
		}
	}
	return nil
}

func (m *Match) addDecoded(f Field, val, mask []byte) error {
	if f >= FieldXReg0 && f <= FieldXXReg3 {
		if mask == nil {
			mask = bytes.Repeat([]byte{0xff}, len(val))
		}
		m.setWide(f, val, mask)
		return nil
	}
	if m.Has(f) {
		return fmt.Errorf("openflow: duplicate match field %s", fields[f].name)
	}
	switch f {
	case fieldNXMInPort:
		p := uint32(be16(val))
		if p >= 0xff00 {
			p += 0xffff0000
		}
		m.exactUint(FieldInPort, uint64(p))
	case fieldNXMIPTOS:
		m.exactUint(FieldIPDSCP, uint64(val[0]>>2))
	case fieldNXMVLANTCI:
		tci, tmask := be16(val), uint16(0xffff)
		if mask != nil {
			tmask = be16(mask)
		}
		if tmask&0x1fff != 0 {
			m.setUint(FieldVLANVID, uint64(tci&0x1fff), uint64(tmask&0x1fff))
		}
		if tmask&0xe000 == 0xe000 {
			m.exactUint(FieldVLANPCP, uint64(tci>>13))
		}
	case fieldPacketType:
		if be32(val) != 0 {
			m.raw = append(m.raw, append(put32(nil, fields[f].header(false)), val...))
		}
	default:
		m.setBytes(f, val, mask)
	}
	return nil
}
