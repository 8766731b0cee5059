package ovsdb

import (
	"encoding/json"
	"fmt"
)

// Schema is the part of a database schema the client needs: the shape
// (atom, set or map) of every column.
type Schema struct {
	// Name is the database name.
	Name string
	// Version is the schema version, e.g. "8.3.1".
	Version string
	// Tables maps table name to column name to column kind.
	Tables map[string]map[string]ColumnKind
}

// ColumnKind tells how a column's values are shaped.
type ColumnKind int

// Column kinds.
const (
	// KindAtom is a column holding exactly one atom (min = max = 1).
	KindAtom ColumnKind = iota
	// KindSet is a set column that may hold several elements.
	KindSet
	// KindMap is a map column.
	KindMap
	// KindOptional is a set column of at most one element (min 0, max 1):
	// a set when read, but an update2 diff carries its new value, not the
	// elements that changed (ovsdb-server diffs only sets of max > 1).
	KindOptional
)

// ParseSchema decodes a schema as returned by "get_schema".
func ParseSchema(data []byte) (*Schema, error) {
	var raw struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Tables  map[string]struct {
			Columns map[string]struct {
				Type json.RawMessage `json:"type"`
			} `json:"columns"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("ovsdb: schema: %w", err)
	}
	s := &Schema{Name: raw.Name, Version: raw.Version, Tables: make(map[string]map[string]ColumnKind, len(raw.Tables))}
	for tname, t := range raw.Tables {
		cols := make(map[string]ColumnKind, len(t.Columns))
		for cname, c := range t.Columns {
			k, err := columnKind(c.Type)
			if err != nil {
				return nil, fmt.Errorf("ovsdb: schema: %s.%s: %w", tname, cname, err)
			}
			cols[cname] = k
		}
		s.Tables[tname] = cols
	}
	return s, nil
}

// columnKind classifies a column <type>: an atomic type name, or an object
// with key, optional value, min and max.
func columnKind(raw json.RawMessage) (ColumnKind, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return KindAtom, nil
	}
	var t struct {
		Value json.RawMessage `json:"value"`
		Min   *int            `json:"min"`
		Max   json.RawMessage `json:"max"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return 0, err
	}
	if t.Value != nil {
		return KindMap, nil
	}
	minN, maxN := 1, 1
	if t.Min != nil {
		minN = *t.Min
	}
	if t.Max != nil {
		var s string
		if json.Unmarshal(t.Max, &s) == nil {
			maxN = -1 // "unlimited"
		} else if err := json.Unmarshal(t.Max, &maxN); err != nil {
			return 0, fmt.Errorf("bad max: %w", err)
		}
	}
	switch {
	case minN == 1 && maxN == 1:
		return KindAtom, nil
	case maxN == 1:
		return KindOptional, nil
	}
	return KindSet, nil
}

// normalize gives a column value its canonical shape: a single atom in a
// set column becomes a one-element Set. Unknown columns are left alone.
func (s *Schema) normalize(table, col string, v any) any {
	if s == nil {
		return v
	}
	if k := s.Tables[table][col]; k != KindSet && k != KindOptional {
		return v
	}
	if _, ok := v.(Set); ok {
		return v
	}
	return Set{v}
}
