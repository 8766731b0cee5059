package openflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// Action is one element of a flow's action list as ovs-ofctl prints it:
// either an action applied immediately (output, set_field, ct, ...) or an
// instruction (goto_table, write_actions, clear_actions, write_metadata).
// Flow.Actions lists them in that order; Encode groups the plain actions into
// one apply-actions instruction.
type Action interface {
	// String renders the action as ovs-ofctl does.
	String() string
	appendTo(b []byte) []byte
	format(buf *bytes.Buffer)
	kind() actionKind
}

type actionKind uint8

// Instruction kinds, in the order OVS reports them.
const (
	kindApply actionKind = iota
	kindClear
	kindWrite
	kindWriteMetadata
	kindGoto
	kindRawInstruction
)

// OpenFlow action and instruction type numbers.
const (
	actOutput     = 0
	actPushVLAN   = 17
	actPopVLAN    = 18
	actGroup      = 22
	actDecNwTTL   = 24
	actSetField   = 25
	actCopyField  = 28
	actExperiment = 0xffff

	instGotoTable     = 1
	instWriteMetadata = 2
	instWriteActions  = 3
	instApplyActions  = 4
	instClearActions  = 5
)

func actionString(a Action) string {
	var b bytes.Buffer
	a.format(&b)
	return b.String()
}

// formatActions renders a list like OVS's ofpacts_format ("drop" if empty).
func formatActions(buf *bytes.Buffer, acts []Action) {
	if len(acts) == 0 {
		buf.WriteString("drop")
		return
	}
	for i, a := range acts {
		if i > 0 {
			buf.WriteByte(',')
		}
		a.format(buf)
	}
}

// OutputAction sends the packet to a port.
type OutputAction struct {
	Port   uint32 // OpenFlow 1.1+ port number or a Port* constant
	MaxLen uint16 // bytes sent to the controller when Port is PortController
}

// Output sends the packet to an OpenFlow port (Port* constants for reserved
// ports).
func Output(port uint32) *OutputAction { return &OutputAction{Port: port, MaxLen: 0xffff} }

// OutputInPort sends the packet back out of its ingress port.
func OutputInPort() *OutputAction { return Output(PortInPort) }

// OutputLocal sends the packet to the bridge's local port.
func OutputLocal() *OutputAction { return Output(PortLocal) }

// OutputNormal hands the packet to the bridge's normal L2 switching.
func OutputNormal() *OutputAction { return Output(PortNormal) }

// OutputController sends up to maxLen bytes of the packet to the controller
// as a packet-in (use 0xffff for the whole packet).
func OutputController(maxLen uint16) *OutputAction {
	return &OutputAction{Port: PortController, MaxLen: maxLen}
}

func (a *OutputAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *OutputAction) String() string { return actionString(a) }

func (a *OutputAction) format(buf *bytes.Buffer) {
	if a.Port < 0xff00 {
		buf.WriteString("output:")
	}
	buf.WriteString(portString(a.Port))
	if a.Port == PortController {
		buf.WriteByte(':')
		buf.WriteString(strconv.Itoa(int(a.MaxLen)))
	}
}

func (a *OutputAction) appendTo(b []byte) []byte {
	b = put16(b, actOutput)
	b = put16(b, 16)
	b = put32(b, a.Port)
	b = put16(b, a.MaxLen)
	return zeros(b, 6)
}

// GroupAction sends the packet to a group.
type GroupAction struct {
	ID uint32 // group id
}

// Group sends the packet through group id.
func Group(id uint32) *GroupAction { return &GroupAction{ID: id} }

func (a *GroupAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *GroupAction) String() string { return actionString(a) }

func (a *GroupAction) format(buf *bytes.Buffer) { fmt.Fprintf(buf, "group:%d", a.ID) }

func (a *GroupAction) appendTo(b []byte) []byte {
	b = put16(b, actGroup)
	b = put16(b, 8)
	return put32(b, a.ID)
}

// simpleAction covers the argument-free standard actions.
type simpleAction struct {
	typ  uint16
	name string
}

// DecTTL decrements the IP TTL (the flow must match IP).
func DecTTL() Action { return &simpleAction{actDecNwTTL, "dec_ttl"} }

// PopVLAN removes the outermost 802.1Q header.
func PopVLAN() Action { return &simpleAction{actPopVLAN, "pop_vlan"} }

func (a *simpleAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *simpleAction) String() string { return a.name }

func (a *simpleAction) format(buf *bytes.Buffer) { buf.WriteString(a.name) }

func (a *simpleAction) appendTo(b []byte) []byte {
	b = put16(b, a.typ)
	b = put16(b, 8)
	return zeros(b, 4)
}

// PushVLANAction pushes a new 802.1Q header.
type PushVLANAction struct {
	EtherType uint16 // TPID of the new header
}

// PushVLAN pushes an 802.1Q header with the given TPID (usually 0x8100).
func PushVLAN(etherType uint16) *PushVLANAction { return &PushVLANAction{EtherType: etherType} }

func (a *PushVLANAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *PushVLANAction) String() string { return actionString(a) }

func (a *PushVLANAction) format(buf *bytes.Buffer) {
	buf.WriteString("push_vlan:" + cHex(uint64(a.EtherType)))
}

func (a *PushVLANAction) appendTo(b []byte) []byte {
	b = put16(b, actPushVLAN)
	b = put16(b, 8)
	b = put16(b, a.EtherType)
	return zeros(b, 2)
}

// rawAction keeps an action this package cannot decode, so that flows
// installed by others survive a dump.
type rawAction struct {
	data []byte
	k    actionKind
}

func (a *rawAction) kind() actionKind { return a.k }

// String renders the raw bytes of the action.
func (a *rawAction) String() string { return actionString(a) }

func (a *rawAction) format(buf *bytes.Buffer) {
	fmt.Fprintf(buf, "unknown(type=%d,%x)", be16(a.data), a.data)
}

func (a *rawAction) appendTo(b []byte) []byte { return append(b, a.data...) }

// appendInstructions encodes a flow's action list as OpenFlow instructions.
func appendInstructions(b []byte, acts []Action) []byte {
	applyStart := -1
	for k := kindApply; k <= kindRawInstruction; k++ {
		for _, a := range acts {
			if a.kind() != k {
				continue
			}
			if k == kindApply {
				if applyStart < 0 {
					applyStart = len(b)
					b = put16(b, instApplyActions)
					b = put16(b, 0)
					b = zeros(b, 4)
				}
				b = a.appendTo(b)
				continue
			}
			b = a.appendTo(b)
		}
		if k == kindApply && applyStart >= 0 {
			binary.BigEndian.PutUint16(b[applyStart+2:], uint16(len(b)-applyStart))
		}
	}
	return b
}

// sortActions orders a list the way OVS reports a decoded flow: applied
// actions first, then clear_actions, write_actions, write_metadata, goto_table.
func sortActions(acts []Action) []Action {
	sorted := true
	for i := 1; i < len(acts); i++ {
		if acts[i].kind() < acts[i-1].kind() {
			sorted = false
			break
		}
	}
	if sorted {
		return acts
	}
	out := make([]Action, 0, len(acts))
	for k := kindApply; k <= kindRawInstruction; k++ {
		for _, a := range acts {
			if a.kind() == k {
				out = append(out, a)
			}
		}
	}
	return out
}
