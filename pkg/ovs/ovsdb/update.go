package ovsdb

import (
	"encoding/json"
	"fmt"
)

// UpdateKind says what happened to a row in a monitor notification.
type UpdateKind int

// Update kinds.
const (
	// RowInitial is a row present when the monitor started (update2 only;
	// "update" reports those as RowInsert).
	RowInitial UpdateKind = iota + 1
	// RowInsert is a new row; RowUpdate.Row is the full row.
	RowInsert
	// RowDelete is a removed row.
	RowDelete
	// RowModify is a changed row: with "update" Row holds the new values
	// of the monitored columns and Old the previous values of the changed
	// ones; with "update2" Row is a diff (Diff is true).
	RowModify
)

// RowUpdate is one row's change.
type RowUpdate struct {
	// Kind is what happened.
	Kind UpdateKind
	// Row is the new contents, or the diff when Diff is set; nil on delete.
	Row Row
	// Old holds previous values ("update" notifications only).
	Old Row
	// Diff tells that Row is an update2 "modify" diff.
	Diff bool
}

// TableUpdates maps table name to row uuid to that row's change.
type TableUpdates map[string]map[UUID]RowUpdate

// DecodeTableUpdates parses the <table-updates> of an "update" notification
// or a "monitor" reply (rows carry "old" and/or "new").
func DecodeTableUpdates(data []byte) (TableUpdates, error) {
	return decodeTableUpdates(data, func(raw json.RawMessage) (RowUpdate, error) {
		var ru struct {
			Old json.RawMessage `json:"old"`
			New json.RawMessage `json:"new"`
		}
		if err := json.Unmarshal(raw, &ru); err != nil {
			return RowUpdate{}, malformed("row update: %v", err)
		}
		var u RowUpdate
		var err error
		if !isNull(ru.Old) {
			if u.Old, err = DecodeRow(ru.Old); err != nil {
				return u, malformed("old: %v", err)
			}
		}
		if !isNull(ru.New) {
			if u.Row, err = DecodeRow(ru.New); err != nil {
				return u, malformed("new: %v", err)
			}
		}
		switch {
		case u.Old == nil && u.Row == nil:
			return u, malformed("row update with neither old nor new")
		case u.Old == nil:
			u.Kind = RowInsert
		case u.Row == nil:
			u.Kind = RowDelete
		default:
			u.Kind = RowModify
		}
		return u, nil
	})
}

// DecodeTableUpdates2 parses the <table-updates2> of an "update2"
// notification or a "monitor_cond" reply: each row update has exactly one
// of "initial", "insert", "delete" or "modify".
func DecodeTableUpdates2(data []byte) (TableUpdates, error) {
	return decodeTableUpdates(data, func(raw json.RawMessage) (RowUpdate, error) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			return RowUpdate{}, malformed("row update2 is not an object")
		}
		if len(obj) != 1 {
			return RowUpdate{}, malformed("row update2 has %d members, want 1", len(obj))
		}
		for key, val := range obj {
			u := RowUpdate{}
			switch key {
			case "initial":
				u.Kind = RowInitial
			case "insert":
				u.Kind = RowInsert
			case "modify":
				u.Kind, u.Diff = RowModify, true
			case "delete":
				u.Kind = RowDelete
				return u, nil
			default:
				return u, malformed("unknown row update2 member %q", key)
			}
			row, err := DecodeRow(val)
			if err != nil {
				return u, malformed("%s: %v", key, err)
			}
			u.Row = row
			return u, nil
		}
		return RowUpdate{}, malformed("empty row update2")
	})
}

func decodeTableUpdates(data []byte, decodeRow func(json.RawMessage) (RowUpdate, error)) (TableUpdates, error) {
	var tables map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &tables); err != nil {
		return nil, malformed("table updates: %v", err)
	}
	if tables == nil {
		return nil, malformed("table updates is not an object")
	}
	out := make(TableUpdates, len(tables))
	for table, rows := range tables {
		tu := make(map[UUID]RowUpdate, len(rows))
		for id, raw := range rows {
			if !validUUID(id) {
				return nil, malformed("table %s: bad row uuid %q", table, id)
			}
			u, err := decodeRow(raw)
			if err != nil {
				return nil, fmt.Errorf("table %s row %s: %w", table, id, err)
			}
			tu[UUID(id)] = u
		}
		out[table] = tu
	}
	return out, nil
}

// Notification is a decoded "update" or "update2" notification.
type Notification struct {
	// MonitorID is the json-value the monitor was created with.
	MonitorID json.RawMessage
	// Updates holds the changes.
	Updates TableUpdates
	// V2 tells an "update2" notification (Updates may hold diffs).
	V2 bool
}

// DecodeNotification decodes the params of an "update" or "update2"
// notification message.
func DecodeNotification(m *Message) (*Notification, error) {
	if m == nil || m.Kind != KindNotification {
		return nil, malformed("not a notification")
	}
	n := &Notification{}
	switch m.Method {
	case "update":
	case "update2":
		n.V2 = true
	default:
		return nil, malformed("unexpected notification %q", m.Method)
	}
	if len(m.Params) != 2 {
		return nil, malformed("%s: %d params, want 2", m.Method, len(m.Params))
	}
	n.MonitorID = m.Params[0]
	var err error
	if n.V2 {
		n.Updates, err = DecodeTableUpdates2(m.Params[1])
	} else {
		n.Updates, err = DecodeTableUpdates(m.Params[1])
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}
