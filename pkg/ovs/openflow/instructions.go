package openflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// GotoTableAction is the goto_table instruction.
type GotoTableAction struct {
	Table uint8 // next table; must be higher than the flow's
}

// GotoTable continues processing in a later table (instruction).
func GotoTable(table uint8) *GotoTableAction { return &GotoTableAction{Table: table} }

func (a *GotoTableAction) kind() actionKind { return kindGoto }

// String renders the action as ovs-ofctl does.
func (a *GotoTableAction) String() string { return actionString(a) }

func (a *GotoTableAction) format(buf *bytes.Buffer) { fmt.Fprintf(buf, "goto_table:%d", a.Table) }

func (a *GotoTableAction) appendTo(b []byte) []byte {
	b = put16(b, instGotoTable)
	b = put16(b, 8)
	b = append(b, a.Table)
	return zeros(b, 3)
}

// WriteActionsAction is the write_actions instruction (adds to the action set).
type WriteActionsAction struct {
	Actions []Action // actions merged into the action set
}

// WriteActions merges actions into the packet's action set (instruction).
func WriteActions(actions ...Action) *WriteActionsAction {
	return &WriteActionsAction{Actions: actions}
}

func (a *WriteActionsAction) kind() actionKind { return kindWrite }

// String renders the action as ovs-ofctl does.
func (a *WriteActionsAction) String() string { return actionString(a) }

func (a *WriteActionsAction) format(buf *bytes.Buffer) {
	buf.WriteString("write_actions(")
	for i, x := range a.Actions {
		if i > 0 {
			buf.WriteByte(',')
		}
		x.format(buf)
	}
	buf.WriteByte(')')
}

func (a *WriteActionsAction) appendTo(b []byte) []byte {
	return appendActionsInstruction(b, instWriteActions, a.Actions)
}

func appendActionsInstruction(b []byte, typ uint16, acts []Action) []byte {
	start := len(b)
	b = put16(b, typ)
	b = put16(b, 0)
	b = zeros(b, 4)
	for _, x := range acts {
		b = x.appendTo(b)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// ClearActionsAction is the clear_actions instruction.
type ClearActionsAction struct{}

// ClearActions empties the packet's action set (instruction).
func ClearActions() *ClearActionsAction { return &ClearActionsAction{} }

func (a *ClearActionsAction) kind() actionKind { return kindClear }

// String renders the action as ovs-ofctl does.
func (a *ClearActionsAction) String() string { return "clear_actions" }

func (a *ClearActionsAction) format(buf *bytes.Buffer) { buf.WriteString("clear_actions") }

func (a *ClearActionsAction) appendTo(b []byte) []byte {
	b = put16(b, instClearActions)
	b = put16(b, 8)
	return zeros(b, 4)
}

// WriteMetadataAction is the write_metadata instruction.
type WriteMetadataAction struct {
	Value uint64 // bits to write
	Mask  uint64 // bits of metadata that change
}

// WriteMetadata writes value into the bits of metadata selected by mask
// (instruction).
func WriteMetadata(value, mask uint64) *WriteMetadataAction {
	return &WriteMetadataAction{Value: value, Mask: mask}
}

func (a *WriteMetadataAction) kind() actionKind { return kindWriteMetadata }

// String renders the action as ovs-ofctl does.
func (a *WriteMetadataAction) String() string { return actionString(a) }

func (a *WriteMetadataAction) format(buf *bytes.Buffer) {
	buf.WriteString("write_metadata:" + cHex(a.Value))
	if a.Mask != ^uint64(0) {
		buf.WriteString("/" + cHex(a.Mask))
	}
}

func (a *WriteMetadataAction) appendTo(b []byte) []byte {
	b = put16(b, instWriteMetadata)
	b = put16(b, 24)
	b = zeros(b, 4)
	b = put64(b, a.Value)
	return put64(b, a.Mask)
}
