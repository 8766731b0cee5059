package openflow

import (
	"bytes"
	"fmt"
	"net/netip"
)

// CT flag bits of NXAST_CT.
const (
	ctFlagCommit = 1 << 0
	ctFlagForce  = 1 << 1
)

// CTAction sends the packet through the connection tracker
// (ovs-actions(7), ct). Build it with CT() and the chained setters.
type CTAction struct {
	// Flags are NXAST_CT flags: commit (1) and force (2).
	Flags uint16
	// Zone is the immediate zone, used when ZoneField is zero.
	Zone uint16
	// ZoneField/ZoneOfs/ZoneBits take the zone from bits of a field instead.
	ZoneField Field
	ZoneOfs   int // first bit of ZoneField
	ZoneBits  int // number of bits of ZoneField
	// RecircTable is the table the packet continues in after conntrack,
	// or 255 for none.
	RecircTable uint8
	// Alg is the well-known port of an application layer gateway (21 ftp,
	// 69 tftp), 0 for none.
	Alg uint16
	// Actions are nested actions: an optional NATAction first, then
	// set_field of ct_mark / ct_label (printed inside exec(...)).
	Actions []Action
}

// CT starts a ct action with no commit, zone 0 and no recirculation.
func CT() *CTAction { return &CTAction{RecircTable: 255} }

// Commit commits the connection to the tracker (ct(commit)).
func (a *CTAction) Commit() *CTAction { a.Flags |= ctFlagCommit; return a }

// Force commits and replaces an existing entry of the opposite direction
// (ct(commit,force)).
func (a *CTAction) Force() *CTAction { a.Flags |= ctFlagCommit | ctFlagForce; return a }

// ZoneImm sets an immediate conntrack zone.
func (a *CTAction) ZoneImm(zone uint16) *CTAction {
	a.Zone, a.ZoneField = zone, fieldNone
	return a
}

// ZoneFrom takes the zone from bits start..end (inclusive) of field f
// (ct(zone=NXM_NX_REG0[0..15])).
func (a *CTAction) ZoneFrom(f Field, start, end int) *CTAction {
	a.ZoneField, a.ZoneOfs, a.ZoneBits = f, start, end-start+1
	return a
}

// Table recirculates the packet to table after conntrack (ct(table=N)).
func (a *CTAction) Table(table uint8) *CTAction { a.RecircTable = table; return a }

// ALG enables an application layer gateway by well-known port (21, 69).
func (a *CTAction) ALG(port uint16) *CTAction { a.Alg = port; return a }

// NAT adds a nat(...) to the ct action.
func (a *CTAction) NAT(n *NATAction) *CTAction {
	a.Actions = append([]Action{n}, a.Actions...)
	return a
}

// Exec adds nested actions (set_field of ct_mark or ct_label).
func (a *CTAction) Exec(actions ...Action) *CTAction {
	a.Actions = append(a.Actions, actions...)
	return a
}

func (a *CTAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *CTAction) String() string { return actionString(a) }

func (a *CTAction) format(buf *bytes.Buffer) {
	start := buf.Len()
	buf.WriteString("ct(")
	if a.Flags&ctFlagCommit != 0 {
		buf.WriteString("commit,")
	}
	if a.Flags&ctFlagForce != 0 {
		buf.WriteString("force,")
	}
	if a.RecircTable != 255 {
		fmt.Fprintf(buf, "table=%d,", a.RecircTable)
	}
	if a.ZoneField != fieldNone {
		buf.WriteString("zone=")
		formatSubfield(buf, a.ZoneField, a.ZoneOfs, a.ZoneBits)
		buf.WriteByte(',')
	} else if a.Zone != 0 {
		fmt.Fprintf(buf, "zone=%d,", a.Zone)
	}
	acts := a.Actions
	if len(acts) > 0 {
		if n, ok := acts[0].(*NATAction); ok {
			n.format(buf)
			buf.WriteByte(',')
			acts = acts[1:]
		}
	}
	if len(acts) > 0 {
		buf.WriteString("exec(")
		for i, x := range acts {
			if i > 0 {
				buf.WriteByte(',')
			}
			x.format(buf)
		}
		buf.WriteString("),")
	}
	switch a.Alg {
	case 0:
	case 21:
		buf.WriteString("alg=ftp,")
	case 69:
		buf.WriteString("alg=tftp,")
	default:
		fmt.Fprintf(buf, "alg=%d,", a.Alg)
	}
	if n := buf.Len(); n > start && buf.Bytes()[n-1] == ',' {
		buf.Truncate(n - 1)
	}
	buf.WriteByte(')')
}

func (a *CTAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastCT)
	b = put16(b, a.Flags)
	if a.ZoneField != fieldNone {
		b = put32(b, fields[a.ZoneField].header(false))
		b = put16(b, uint16(a.ZoneOfs<<6|(a.ZoneBits-1)))
	} else {
		b = put32(b, 0)
		b = put16(b, a.Zone)
	}
	b = append(b, a.RecircTable, 0, 0, 0)
	b = put16(b, a.Alg)
	for _, x := range a.Actions {
		b = x.appendTo(b)
	}
	return finishNX(b, start)
}

// NAT flag bits of NXAST_NAT.
const (
	natFlagSrc        = 1 << 0
	natFlagDst        = 1 << 1
	natFlagPersistent = 1 << 2
	natFlagHash       = 1 << 3
	natFlagRandom     = 1 << 4
)

// NAT range_present bits.
const (
	natRangeIPv4Min  = 1 << 0
	natRangeIPv4Max  = 1 << 1
	natRangeIPv6Min  = 1 << 2
	natRangeIPv6Max  = 1 << 3
	natRangeProtoMin = 1 << 4
	natRangeProtoMax = 1 << 5
)

// NATAction is the nat(...) nested in a ct action.
type NATAction struct {
	Flags            uint16     // src/dst, persistent, hash, random
	MinIP, MaxIP     netip.Addr // invalid (zero) when absent
	MinPort, MaxPort uint16     // 0 when absent
}

// NAT applies the NAT recorded for the connection (plain "nat").
func NAT() *NATAction { return &NATAction{} }

// SNAT rewrites the source to an address in minIP..maxIP and, when minPort is
// non-zero, a port in minPort..maxPort. maxIP may be the zero Addr.
func SNAT(minIP, maxIP netip.Addr, minPort, maxPort uint16) *NATAction {
	return &NATAction{Flags: natFlagSrc, MinIP: minIP, MaxIP: maxIP, MinPort: minPort, MaxPort: maxPort}
}

// DNAT rewrites the destination like SNAT does the source.
func DNAT(minIP, maxIP netip.Addr, minPort, maxPort uint16) *NATAction {
	return &NATAction{Flags: natFlagDst, MinIP: minIP, MaxIP: maxIP, MinPort: minPort, MaxPort: maxPort}
}

// Persistent keeps the mapping stable across restarts of the connection.
func (a *NATAction) Persistent() *NATAction { a.Flags |= natFlagPersistent; return a }

// Random picks the port at random.
func (a *NATAction) Random() *NATAction { a.Flags |= natFlagRandom; return a }

// Hash picks the port by hashing the connection.
func (a *NATAction) Hash() *NATAction { a.Flags |= natFlagHash; return a }

func (a *NATAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *NATAction) String() string { return actionString(a) }

func (a *NATAction) format(buf *bytes.Buffer) {
	buf.WriteString("nat")
	if a.Flags&(natFlagSrc|natFlagDst) == 0 {
		return
	}
	buf.WriteByte('(')
	if a.Flags&natFlagSrc != 0 {
		buf.WriteString("src")
	} else {
		buf.WriteString("dst")
	}
	if a.MinIP.IsValid() {
		buf.WriteByte('=')
		v6 := a.MinIP.Is6() && !a.MinIP.Is4In6()
		writeIP := func(ip netip.Addr) {
			if v6 && a.MinPort != 0 {
				buf.WriteString("[" + ip.String() + "]")
			} else {
				buf.WriteString(ip.Unmap().String())
			}
		}
		writeIP(a.MinIP)
		if a.MaxIP.IsValid() && !a.MaxIP.IsUnspecified() && a.MaxIP != a.MinIP {
			buf.WriteByte('-')
			writeIP(a.MaxIP)
		}
		if a.MinPort != 0 {
			fmt.Fprintf(buf, ":%d", a.MinPort)
			if a.MaxPort != 0 && a.MaxPort != a.MinPort {
				fmt.Fprintf(buf, "-%d", a.MaxPort)
			}
		}
		buf.WriteByte(',')
		if a.Flags&natFlagPersistent != 0 {
			buf.WriteString("persistent,")
		}
		if a.Flags&natFlagHash != 0 {
			buf.WriteString("hash,")
		}
		if a.Flags&natFlagRandom != 0 {
			buf.WriteString("random,")
		}
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteByte(')')
}

func (a *NATAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastNAT)
	b = zeros(b, 2)
	b = put16(b, a.Flags)
	rp := len(b)
	b = put16(b, 0)
	present := uint16(0)
	if a.MinIP.IsValid() {
		if a.MinIP.Is4() || a.MinIP.Is4In6() {
			b = append(b, ip4Bytes(a.MinIP)...)
			present |= natRangeIPv4Min
			if a.MaxIP.IsValid() && !a.MaxIP.IsUnspecified() {
				b = append(b, ip4Bytes(a.MaxIP)...)
				present |= natRangeIPv4Max
			}
		} else {
			v := a.MinIP.As16()
			b = append(b, v[:]...)
			present |= natRangeIPv6Min
			if a.MaxIP.IsValid() && !a.MaxIP.IsUnspecified() {
				v = a.MaxIP.As16()
				b = append(b, v[:]...)
				present |= natRangeIPv6Max
			}
		}
		if a.MinPort != 0 {
			b = put16(b, a.MinPort)
			present |= natRangeProtoMin
			if a.MaxPort != 0 {
				b = put16(b, a.MaxPort)
				present |= natRangeProtoMax
			}
		}
	}
	b[rp], b[rp+1] = byte(present>>8), byte(present)
	return finishNX(b, start)
}
