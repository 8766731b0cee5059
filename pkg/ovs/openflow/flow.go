package openflow

import (
	"bytes"
	"fmt"
	"strconv"
)

// FlowFlags are OFPFF_* flow flags.
type FlowFlags uint16

// Flow flags (OpenFlow 1.5).
const (
	FlagSendFlowRem  FlowFlags = 1 << 0
	FlagCheckOverlap FlowFlags = 1 << 1
	FlagResetCounts  FlowFlags = 1 << 2
	FlagNoPktCounts  FlowFlags = 1 << 3
	FlagNoBytCounts  FlowFlags = 1 << 4
)

// Flow is one flow table entry: where it lives (table, priority, match), its
// cookie and timeouts, and its actions. Flows decoded from flow stats use the
// same type, so desired and installed flows compare by Key and String.
type Flow struct {
	Table       uint8     // flow table, 0-254
	Priority    uint16    // higher wins; DefaultPriority is OVS's default
	Cookie      uint64    // opaque owner tag, used to select flows
	IdleTimeout uint16    // seconds without a hit before removal, 0 = never
	HardTimeout uint16    // seconds after install before removal, 0 = never
	Flags       FlowFlags // OFPFF_* flags
	Importance  uint16    // eviction importance
	Match       Match     // field constraints
	// Actions in ovs-ofctl order: applied actions, then instructions
	// (clear_actions, write_actions, write_metadata, goto_table). Empty
	// means drop.
	Actions []Action
}

// Key identifies the flow entry in its table: OpenFlow treats two flows with
// the same table, priority and match as the same entry. It is stable and can
// be used as a map key to diff desired against installed flows.
func (f *Flow) Key() string {
	var b bytes.Buffer
	b.WriteString("table=")
	b.WriteString(strconv.Itoa(int(f.Table)))
	b.WriteString(",priority=")
	b.WriteString(strconv.Itoa(int(f.Priority)))
	if f.Match.Len() > 0 {
		b.WriteByte(',')
		f.Match.format(&b, DefaultPriority)
	}
	return b.String()
}

// String renders the flow exactly as `ovs-ofctl -O OpenFlow15 dump-flows
// --no-stats` prints it, minus the single leading space OVS puts before each
// line: "cookie=0x5, table=3, priority=200,ip,nw_dst=10.0.0.0/8 actions=...".
func (f *Flow) String() string {
	var b bytes.Buffer
	if f.Cookie != 0 {
		fmt.Fprintf(&b, "cookie=0x%x, ", f.Cookie)
	}
	if f.Table != 0 {
		fmt.Fprintf(&b, "table=%d, ", f.Table)
	}
	if f.IdleTimeout != 0 {
		fmt.Fprintf(&b, "idle_timeout=%d, ", f.IdleTimeout)
	}
	if f.HardTimeout != 0 {
		fmt.Fprintf(&b, "hard_timeout=%d, ", f.HardTimeout)
	}
	writeFlags(&b, f.Flags)
	if f.Importance != 0 {
		fmt.Fprintf(&b, "importance=%d, ", f.Importance)
	}
	n := b.Len()
	f.Match.format(&b, f.Priority)
	if b.Len() != n {
		b.WriteByte(' ')
	}
	b.WriteString("actions=")
	formatActions(&b, f.Actions)
	return b.String()
}

// ActionsString renders only the actions ("drop" when there are none).
func (f *Flow) ActionsString() string {
	var b bytes.Buffer
	formatActions(&b, f.Actions)
	return b.String()
}

func writeFlags(b *bytes.Buffer, fl FlowFlags) {
	names := []struct {
		f FlowFlags
		s string
	}{{FlagSendFlowRem, "send_flow_rem "}, {FlagCheckOverlap, "check_overlap "},
		{FlagResetCounts, "reset_counts "}, {FlagNoPktCounts, "no_packet_counts "},
		{FlagNoBytCounts, "no_byte_counts "}}
	for _, n := range names {
		if fl&n.f != 0 {
			b.WriteString(n.s)
		}
	}
}

// Equal reports whether two flows are the same entry with the same cookie,
// timeouts, flags and actions (compared by their canonical text).
func (f *Flow) Equal(o *Flow) bool {
	return f.Table == o.Table && f.Priority == o.Priority && f.Cookie == o.Cookie &&
		f.IdleTimeout == o.IdleTimeout && f.HardTimeout == o.HardTimeout &&
		f.Flags == o.Flags && f.Importance == o.Importance &&
		f.Match.Equal(&o.Match) && f.ActionsString() == o.ActionsString()
}

// FlowBuilder builds a Flow so that the code reads like the flow it makes:
//
//	openflow.NewFlow(tableL2).Priority(200).Cookie(c).
//		MatchInPort(3).MatchEthDst(mac).
//		Actions(openflow.LoadReg(0, 1, 0, 15), openflow.GotoTable(tableOut))
type FlowBuilder struct{ f *Flow }

// NewFlow starts a flow in table with OVS's default priority (32768).
func NewFlow(table uint8) *FlowBuilder {
	return &FlowBuilder{f: &Flow{Table: table, Priority: DefaultPriority}}
}

// Priority sets the flow priority.
func (b *FlowBuilder) Priority(p uint16) *FlowBuilder { b.f.Priority = p; return b }

// Cookie sets the flow cookie.
func (b *FlowBuilder) Cookie(c uint64) *FlowBuilder { b.f.Cookie = c; return b }

// IdleTimeout removes the flow after secs seconds without a hit.
func (b *FlowBuilder) IdleTimeout(secs uint16) *FlowBuilder { b.f.IdleTimeout = secs; return b }

// HardTimeout removes the flow secs seconds after it was installed.
func (b *FlowBuilder) HardTimeout(secs uint16) *FlowBuilder { b.f.HardTimeout = secs; return b }

// Flags sets OFPFF_* flags.
func (b *FlowBuilder) Flags(fl FlowFlags) *FlowBuilder { b.f.Flags = fl; return b }

// Importance sets the eviction importance.
func (b *FlowBuilder) Importance(i uint16) *FlowBuilder { b.f.Importance = i; return b }

// Match applies fn to the flow's match, for constraints without a Match*
// shortcut on the builder.
func (b *FlowBuilder) Match(fn func(m *Match)) *FlowBuilder { fn(&b.f.Match); return b }

// Actions sets the action list and returns the finished flow.
func (b *FlowBuilder) Actions(acts ...Action) *Flow {
	b.f.Actions = sortActions(acts)
	return b.f
}

// Drop returns the finished flow with no actions.
func (b *FlowBuilder) Drop() *Flow { return b.Actions() }

// Flow returns the flow built so far (with the actions set so far).
func (b *FlowBuilder) Flow() *Flow { return b.f }
