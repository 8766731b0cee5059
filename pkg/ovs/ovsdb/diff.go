package ovsdb

import "fmt"

// isAtom reports whether v is a comparable OVSDB atom.
func isAtom(v any) bool {
	switch v.(type) {
	case string, int64, float64, bool, UUID, NamedUUID:
		return true
	}
	return false
}

// applyDiff returns a new row: old with an update2 "modify" diff applied.
// Map columns: a key with an equal value is removed, any other pair is set.
// Set columns: the diff is the symmetric difference. Atom and optional
// columns: replaced by the diff, which is their new value.
func applyDiff(schema *Schema, table string, old, diff Row) (Row, error) {
	next := make(Row, len(old)+len(diff))
	for k, v := range old {
		next[k] = v
	}
	for col, d := range diff {
		kind := KindAtom
		if schema != nil {
			kind = schema.Tables[table][col]
		}
		switch kind {
		case KindMap:
			dm, ok := d.(Map)
			if !ok {
				return nil, fmt.Errorf("ovsdb: %s.%s: map diff is %T", table, col, d)
			}
			om, _ := old[col].(Map)
			m := make(Map, len(om)+len(dm))
			for k, v := range om {
				m[k] = v
			}
			for k, v := range dm {
				if ov, ok := m[k]; ok && isAtom(ov) && isAtom(v) && ov == v {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			next[col] = m
		case KindSet:
			ds, ok := d.(Set)
			if !ok {
				if !isAtom(d) {
					return nil, fmt.Errorf("ovsdb: %s.%s: set diff is %T", table, col, d)
				}
				ds = Set{d}
			}
			os, _ := old[col].(Set)
			next[col] = symmetricDifference(os, ds)
		case KindOptional:
			next[col] = schema.normalize(table, col, d)
		default:
			next[col] = d
		}
	}
	return next, nil
}

// symmetricDifference returns the elements in exactly one of a and b.
func symmetricDifference(a, b Set) Set {
	inB := make(map[any]bool, len(b))
	for _, e := range b {
		if isAtom(e) {
			inB[e] = true
		}
	}
	out := make(Set, 0, len(a)+len(b))
	seen := make(map[any]bool, len(a))
	for _, e := range a {
		if !isAtom(e) {
			continue
		}
		seen[e] = true
		if !inB[e] {
			out = append(out, e)
		}
	}
	for _, e := range b {
		if isAtom(e) && !seen[e] {
			seen[e] = true // also drops duplicates within b
			out = append(out, e)
		}
	}
	return out
}
