package openflow

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// nxVendorID is the Nicira experimenter id used by OVS extensions.
const nxVendorID uint32 = 0x00002320

// Nicira action subtypes used here.
const (
	nxastResubmit      = 1
	nxastNote          = 8
	nxastResubmitTable = 14
	nxastConjunction   = 34
	nxastCT            = 35
	nxastNAT           = 36
	nxastCTClear       = 43
)

// appendNXHeader starts a Nicira action; finishNX pads it and sets its length.
func appendNXHeader(b []byte, subtype uint16) []byte {
	b = put16(b, actExperiment)
	b = put16(b, 0)
	b = put32(b, nxVendorID)
	return put16(b, subtype)
}

func finishNX(b []byte, start int) []byte {
	b = pad8(b, start)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// port11To10 converts an OpenFlow 1.1+ port to the 16-bit numbering used
// inside Nicira actions.
func port11To10(p uint32) uint16 {
	if p >= PortMax {
		return uint16(p - 0xffff0000)
	}
	return uint16(p)
}

func port10To11(p uint16) uint32 {
	if p >= 0xff00 {
		return uint32(p) + 0xffff0000
	}
	return uint32(p)
}

// ResubmitAction re-runs the pipeline lookup in another table and/or with
// another in_port, then continues with the following actions.
type ResubmitAction struct {
	Port  uint32 // PortInPort keeps the current in_port
	Table uint8  // 255 keeps the current table
}

// Resubmit searches table with in_port replaced by port
// (ovs-ofctl: resubmit(port,table)). Use PortInPort to keep the in_port.
func Resubmit(port uint32, table uint8) *ResubmitAction {
	return &ResubmitAction{Port: port, Table: table}
}

// ResubmitTable searches table with the packet unchanged (resubmit(,table)).
func ResubmitTable(table uint8) *ResubmitAction { return Resubmit(PortInPort, table) }

func (a *ResubmitAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *ResubmitAction) String() string { return actionString(a) }

func (a *ResubmitAction) format(buf *bytes.Buffer) {
	if a.Port != PortInPort && a.Table == 255 {
		buf.WriteString("resubmit:")
		buf.WriteString(portString(a.Port))
		return
	}
	buf.WriteString("resubmit(")
	if a.Port != PortInPort {
		buf.WriteString(portString(a.Port))
	}
	buf.WriteByte(',')
	if a.Table != 255 {
		fmt.Fprintf(buf, "%d", a.Table)
	}
	buf.WriteByte(')')
}

func (a *ResubmitAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastResubmitTable)
	b = put16(b, port11To10(a.Port))
	b = append(b, a.Table)
	return finishNX(b, start)
}

// NoteAction carries opaque bytes with the flow; it does nothing.
type NoteAction struct {
	Data []byte // note bytes, padding included
}

// Note attaches data to the flow. OVS pads the note with zero bytes so the
// action is a multiple of 8 bytes; the padding is part of the note and shows
// in the text (note:01.02.00.00.00.00), so Note stores it too.
func Note(data []byte) *NoteAction {
	n := len(data)
	padded := 6
	for padded < n {
		padded += 8
	}
	d := make([]byte, padded)
	copy(d, data)
	return &NoteAction{Data: d}
}

func (a *NoteAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *NoteAction) String() string { return actionString(a) }

func (a *NoteAction) format(buf *bytes.Buffer) {
	buf.WriteString("note:")
	for i, c := range a.Data {
		if i > 0 {
			buf.WriteByte('.')
		}
		fmt.Fprintf(buf, "%02x", c)
	}
}

func (a *NoteAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastNote)
	b = append(b, a.Data...)
	return finishNX(b, start)
}

// ConjunctionAction marks the flow as clause Clause (1-based) of NClauses of
// conjunctive match ID.
type ConjunctionAction struct {
	ID       uint32 // conjunction id, matched by conj_id
	Clause   uint8  // 1..NClauses
	NClauses uint8  // number of clauses, 2..64
}

// Conjunction makes the flow clause k of n (1 ≤ k ≤ n, 2 ≤ n ≤ 64) of
// conjunctive match id (ovs-ofctl: conjunction(id,k/n)).
func Conjunction(id uint32, k, n uint8) *ConjunctionAction {
	if k < 1 || k > n || n < 2 || n > 64 {
		panic(fmt.Sprintf("openflow: bad conjunction clause %d/%d", k, n))
	}
	return &ConjunctionAction{ID: id, Clause: k, NClauses: n}
}

func (a *ConjunctionAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (a *ConjunctionAction) String() string { return actionString(a) }

func (a *ConjunctionAction) format(buf *bytes.Buffer) {
	fmt.Fprintf(buf, "conjunction(%d,%d/%d)", a.ID, a.Clause, a.NClauses)
}

func (a *ConjunctionAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastConjunction)
	b = append(b, a.Clause-1, a.NClauses)
	b = put32(b, a.ID)
	return finishNX(b, start)
}

// ctClearAction is NXAST_CT_CLEAR.
type ctClearAction struct{}

// CTClear clears the packet's conntrack state (ct_clear).
func CTClear() Action { return ctClearAction{} }

func (ctClearAction) kind() actionKind { return kindApply }

// String renders the action as ovs-ofctl does.
func (ctClearAction) String() string { return "ct_clear" }

func (ctClearAction) format(buf *bytes.Buffer) { buf.WriteString("ct_clear") }

func (ctClearAction) appendTo(b []byte) []byte {
	start := len(b)
	b = appendNXHeader(b, nxastCTClear)
	return finishNX(b, start)
}
