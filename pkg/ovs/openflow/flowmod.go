package openflow

import (
	"bytes"
	"fmt"
)

// FlowModCommand is the OFPFC_* command of a flow_mod.
type FlowModCommand uint8

// Flow mod commands.
const (
	FlowAdd          FlowModCommand = 0
	FlowModify       FlowModCommand = 1
	FlowModifyStrict FlowModCommand = 2
	FlowDelete       FlowModCommand = 3
	FlowDeleteStrict FlowModCommand = 4
)

var flowModNames = [...]string{"ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"}

// String returns the name ovs-ofctl prints for the command.
func (c FlowModCommand) String() string {
	if int(c) < len(flowModNames) {
		return flowModNames[c]
	}
	return fmt.Sprintf("cmd(%d)", uint8(c))
}

// TableAll selects every table in delete and flow stats requests.
const TableAll uint8 = 0xff

// GroupAny is OFPG_ANY, "no group filter" in delete and stats requests.
const GroupAny uint32 = 0xffffffff

// putOutFilter appends the out_port and out_group filter of a flow mod or
// flow stats request; 0 stands for no filter (PortAny, GroupAny).
func putOutFilter(b []byte, outPort, outGroup uint32) []byte {
	if outPort == 0 {
		outPort = PortAny
	}
	if outGroup == 0 {
		outGroup = GroupAny
	}
	return put32(put32(b, outPort), outGroup)
}

// noBuffer is OFP_NO_BUFFER.
const noBuffer uint32 = 0xffffffff

// FlowMod is one flow table modification.
type FlowMod struct {
	Command FlowModCommand // add, modify or delete (strict or not)
	Flow    *Flow          // table, priority, match, cookie and actions
	// CookieMask restricts modify and delete commands to flows whose cookie
	// equals Flow.Cookie in the masked bits. Ignored for adds.
	CookieMask uint64
	// OutPort and OutGroup restrict delete commands to flows that output to
	// that port or group; zero means any.
	OutPort  uint32 // OFPP_ANY when zero
	OutGroup uint32 // OFPG_ANY when zero
}

// AddFlow adds f, replacing an existing entry with the same table,
// priority and match.
func AddFlow(f *Flow) *FlowMod { return &FlowMod{Command: FlowAdd, Flow: f} }

// ModifyFlows replaces the actions of every flow in f.Table whose match
// includes f's match (non-strict).
func ModifyFlows(f *Flow) *FlowMod { return &FlowMod{Command: FlowModify, Flow: f} }

// ModifyFlowStrict replaces the actions of the flow with exactly f's table,
// priority and match.
func ModifyFlowStrict(f *Flow) *FlowMod { return &FlowMod{Command: FlowModifyStrict, Flow: f} }

// DeleteFlows deletes every flow in f.Table (TableAll for all) whose match
// includes f's match (non-strict); priority is ignored.
func DeleteFlows(f *Flow) *FlowMod { return &FlowMod{Command: FlowDelete, Flow: f} }

// DeleteFlowStrict deletes the flow with exactly f's table, priority and match.
func DeleteFlowStrict(f *Flow) *FlowMod { return &FlowMod{Command: FlowDeleteStrict, Flow: f} }

// DeleteByCookie deletes the flows of every table whose cookie matches
// cookie under mask (ovs-ofctl del-flows "cookie=C/M").
func DeleteByCookie(cookie, mask uint64) *FlowMod {
	return &FlowMod{Command: FlowDelete, Flow: &Flow{Table: TableAll, Priority: DefaultPriority, Cookie: cookie}, CookieMask: mask}
}

// appendFlowMod encodes an OpenFlow 1.5 OFPT_FLOW_MOD.
func appendFlowMod(b []byte, xid uint32, fm *FlowMod) ([]byte, error) {
	f := fm.Flow
	if f == nil {
		return b, fmt.Errorf("openflow: flow mod without flow")
	}
	start := len(b)
	b = appendHeader(b, TypeFlowMod, xid)
	b = put64(b, f.Cookie)
	mask := fm.CookieMask
	if fm.Command == FlowAdd {
		mask = 0
	}
	b = put64(b, mask)
	b = append(b, f.Table, byte(fm.Command))
	b = put16(b, f.IdleTimeout)
	b = put16(b, f.HardTimeout)
	b = put16(b, f.Priority)
	b = put32(b, noBuffer)
	b = putOutFilter(b, fm.OutPort, fm.OutGroup)
	b = put16(b, uint16(f.Flags))
	b = put16(b, f.Importance)
	b = f.Match.appendTo(b)
	if fm.Command != FlowDelete && fm.Command != FlowDeleteStrict {
		b = appendInstructions(b, f.Actions)
	}
	return finishMsg(b, start)
}

// EncodeFlowMod returns the binary OFPT_FLOW_MOD for fm with the given xid.
func EncodeFlowMod(xid uint32, fm *FlowMod) ([]byte, error) { return appendFlowMod(nil, xid, fm) }

// flowModFixedLen is the size of ofp_flow_mod before the match.
const flowModFixedLen = 48

// ParseFlowMod decodes an OFPT_FLOW_MOD message.
func ParseFlowMod(m *Message) (*FlowMod, error) {
	if m.Type != TypeFlowMod {
		return nil, fmt.Errorf("openflow: %s is not a flow mod", m.Type)
	}
	b := m.Data
	if len(b) < flowModFixedLen+4 {
		return nil, ErrShort
	}
	f := &Flow{
		Cookie: be64(b[8:]), Table: b[24], IdleTimeout: be16(b[26:]),
		HardTimeout: be16(b[28:]), Priority: be16(b[30:]),
		Flags: FlowFlags(be16(b[44:])), Importance: be16(b[46:]),
	}
	fm := &FlowMod{Command: FlowModCommand(b[25]), Flow: f, CookieMask: be64(b[16:]),
		OutPort: be32(b[36:]), OutGroup: be32(b[40:])}
	match, n, err := parseMatch(b[flowModFixedLen:])
	if err != nil {
		return nil, err
	}
	f.Match = match
	acts, err := parseInstructions(b[flowModFixedLen+n:])
	if err != nil {
		return nil, err
	}
	f.Actions = acts
	return fm, nil
}

// String renders fm the way `ovs-ofctl ofp-print` shows an OFPT_FLOW_MOD
// body, e.g. "ADD table:3 priority=200,ip cookie:0x5 actions=drop".
func (fm *FlowMod) String() string {
	f := fm.Flow
	var b bytes.Buffer
	b.WriteString(fm.Command.String())
	if f.Table != 0 {
		fmt.Fprintf(&b, " table:%d", f.Table)
	}
	b.WriteByte(' ')
	f.Match.format(&b, f.Priority)
	if bs := b.Bytes(); bs[len(bs)-1] != ' ' {
		b.WriteByte(' ')
	}
	if fm.Command == FlowAdd && f.Cookie != 0 && f.Cookie != ^uint64(0) {
		fmt.Fprintf(&b, "cookie:0x%x ", f.Cookie)
	}
	if fm.Command != FlowAdd && fm.CookieMask != 0 {
		fmt.Fprintf(&b, "cookie:0x%x/0x%x ", f.Cookie&fm.CookieMask, fm.CookieMask)
	}
	if f.IdleTimeout != 0 {
		fmt.Fprintf(&b, "idle:%d ", f.IdleTimeout)
	}
	if f.HardTimeout != 0 {
		fmt.Fprintf(&b, "hard:%d ", f.HardTimeout)
	}
	if f.Importance != 0 {
		fmt.Fprintf(&b, "importance:%d ", f.Importance)
	}
	if fm.OutPort != 0 && fm.OutPort != PortAny {
		b.WriteString("out_port:" + portString(fm.OutPort) + " ")
	}
	writeFlags(&b, f.Flags)
	b.WriteString("actions=")
	if fm.Command == FlowDelete || fm.Command == FlowDeleteStrict {
		b.WriteString("drop")
	} else {
		formatActions(&b, f.Actions)
	}
	return b.String()
}
