package openflow

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// Ethernet types and IP protocols that the match helpers fill in as
// prerequisites.
const (
	EthTypeIPv4 uint16 = 0x0800
	EthTypeARP  uint16 = 0x0806
	EthTypeIPv6 uint16 = 0x86dd
	EthTypeVLAN uint16 = 0x8100

	IPProtoICMP uint8 = 1
	IPProtoTCP  uint8 = 6
	IPProtoUDP  uint8 = 17
	IPProtoSCTP uint8 = 132
)

// CTState is a set of conntrack state bits as matched by ct_state.
type CTState uint32

// Conntrack state bits (ovs-fields(7), ct_state).
const (
	CTNew CTState = 1 << iota
	CTEstablished
	CTRelated
	CTReply
	CTInvalid
	CTTracked
	CTSNAT
	CTDNAT
)

// Uint128 is a 128-bit value such as ct_label or an xxreg.
type Uint128 struct {
	Hi uint64 // most significant 64 bits
	Lo uint64 // least significant 64 bits
}

func (u Uint128) bytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], u.Hi)
	binary.BigEndian.PutUint64(b[8:], u.Lo)
	return b
}

// matchEntry is one field constraint; val and mask use the first
// fields[f].size bytes, and val is always within mask.
type matchEntry struct {
	field Field
	val   [16]byte
	mask  [16]byte
}

// Match is the set of field constraints of a flow. The zero value matches
// every packet. Setters keep the entries sorted and add the prerequisites
// OpenFlow demands (eth_type before IP fields, ip_proto before ports).
type Match struct {
	entries []matchEntry
	// raw holds entries this package does not know, as received.
	raw [][]byte
}

// Len returns the number of field constraints in m.
func (m *Match) Len() int { return len(m.entries) + len(m.raw) }

func (m *Match) find(f Field) int {
	i := sort.Search(len(m.entries), func(i int) bool { return m.entries[i].field >= f })
	if i < len(m.entries) && m.entries[i].field == f {
		return i
	}
	return -1
}

func (m *Match) get(f Field) (*matchEntry, bool) {
	if i := m.find(f); i >= 0 {
		return &m.entries[i], true
	}
	return nil, false
}

// setBytes stores value/mask (big-endian, fields[f].size bytes each). A nil
// mask means exact. An all-zero mask removes the constraint.
func (m *Match) setBytes(f Field, val, mask []byte) {
	size := fields[f].size
	var e matchEntry
	e.field = f
	nonzero := false
	for i := 0; i < size; i++ {
		mk := byte(0xff)
		if mask != nil {
			mk = mask[i]
		}
		e.mask[i] = mk
		e.val[i] = val[i] & mk
		nonzero = nonzero || mk != 0
	}
	i := sort.Search(len(m.entries), func(i int) bool { return m.entries[i].field >= f })
	if i < len(m.entries) && m.entries[i].field == f {
		if !nonzero {
			m.entries = append(m.entries[:i], m.entries[i+1:]...)
			return
		}
		m.entries[i] = e
		return
	}
	if !nonzero {
		return
	}
	m.entries = append(m.entries, matchEntry{})
	copy(m.entries[i+1:], m.entries[i:])
	m.entries[i] = e
}

func (m *Match) setUint(f Field, v, mask uint64) {
	size := fields[f].size
	var vb, mb [8]byte
	binary.BigEndian.PutUint64(vb[:], v)
	binary.BigEndian.PutUint64(mb[:], mask)
	m.setBytes(f, vb[8-size:], mb[8-size:])
}

func (m *Match) exactUint(f Field, v uint64) {
	m.setUint(f, v, ^uint64(0)>>(64-8*fields[f].size))
}

// uint returns the value and mask of a field of at most 8 bytes.
func (m *Match) uint(f Field) (v, mask uint64, ok bool) {
	e, ok := m.get(f)
	if !ok {
		return 0, 0, false
	}
	size := fields[f].size
	for i := 0; i < size; i++ {
		v = v<<8 | uint64(e.val[i])
		mask = mask<<8 | uint64(e.mask[i])
	}
	return v, mask, true
}

// Has reports whether m constrains field f (registers are stored per reg).
func (m *Match) Has(f Field) bool { return m.find(f) >= 0 }

// Clone returns a deep copy of m.
func (m Match) Clone() Match {
	c := Match{entries: append([]matchEntry(nil), m.entries...)}
	for _, r := range m.raw {
		c.raw = append(c.raw, append([]byte(nil), r...))
	}
	return c
}

// Equal reports whether a and b contain the same constraints.
func (m *Match) Equal(o *Match) bool {
	if len(m.entries) != len(o.entries) || len(m.raw) != len(o.raw) {
		return false
	}
	for i := range m.entries {
		if m.entries[i] != o.entries[i] {
			return false
		}
	}
	for i := range m.raw {
		if !bytes.Equal(m.raw[i], o.raw[i]) {
			return false
		}
	}
	return true
}

func (m *Match) ethType() (uint16, bool) {
	v, _, ok := m.uint(FieldEthType)
	return uint16(v), ok
}

func (m *Match) requireEthType(t uint16) {
	if _, ok := m.ethType(); !ok {
		m.exactUint(FieldEthType, uint64(t))
	}
}

// requireIP adds eth_type=ip unless the match is already IPv4 or IPv6.
func (m *Match) requireIP() { m.requireEthType(EthTypeIPv4) }

func (m *Match) requireIPProto(p uint8) {
	m.requireIP()
	if !m.Has(FieldIPProto) {
		m.exactUint(FieldIPProto, uint64(p))
	}
}
