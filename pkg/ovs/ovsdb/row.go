package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Row maps column names to decoded OVSDB values (see package doc). Rows
// handed out by a Cache are shared snapshots: do not modify them.
type Row map[string]any

// DecodeRow parses a JSON object of column name to OVSDB value.
func DecodeRow(data []byte) (Row, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("ovsdb: row: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("ovsdb: row: not an object")
	}
	row := make(Row, len(raw))
	for col, v := range raw {
		val, err := DecodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", col, err)
		}
		row[col] = val
	}
	return row, nil
}

// UnmarshalJSON decodes a row with DecodeRow.
func (r *Row) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*r = nil
		return nil
	}
	row, err := DecodeRow(data)
	if err != nil {
		return err
	}
	*r = row
	return nil
}

// UUID returns the row's _uuid column, or "" if absent.
func (r Row) UUID() UUID {
	u, _ := r["_uuid"].(UUID)
	return u
}

// String returns a string column, or the only element of a one-element set
// of strings; "" otherwise.
func (r Row) String(col string) string {
	switch v := r[col].(type) {
	case string:
		return v
	case Set:
		if len(v) == 1 {
			s, _ := v[0].(string)
			return s
		}
	}
	return ""
}

// Int returns an integer column, or the only element of a one-element set
// of integers; ok is false if the column is absent or empty.
func (r Row) Int(col string) (n int64, ok bool) {
	switch v := r[col].(type) {
	case int64:
		return v, true
	case Set:
		if len(v) == 1 {
			n, ok = v[0].(int64)
			return n, ok
		}
	}
	return 0, false
}

// Strings returns a set-of-strings column (or a single string) sorted.
func (r Row) Strings(col string) []string {
	var out []string
	switch v := r[col].(type) {
	case string:
		out = []string{v}
	case Set:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}

// UUIDs returns a set-of-uuids column (or a single uuid).
func (r Row) UUIDs(col string) []UUID {
	switch v := r[col].(type) {
	case UUID:
		return []UUID{v}
	case Set:
		out := make([]UUID, 0, len(v))
		for _, e := range v {
			if u, ok := e.(UUID); ok {
				out = append(out, u)
			}
		}
		return out
	}
	return nil
}

// StringMap returns a string-to-string map column as a fresh Go map (never
// nil when the column is a map).
func (r Row) StringMap(col string) map[string]string {
	m, ok := r[col].(Map)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if ok1 && ok2 {
			out[ks] = vs
		}
	}
	return out
}
