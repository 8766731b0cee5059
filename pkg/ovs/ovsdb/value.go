package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// UUID is an OVSDB row identifier. It is encoded as ["uuid","<uuid>"].
type UUID string

// NamedUUID refers, inside one transaction, to a row inserted by an
// operation with the same UUIDName. It is encoded as ["named-uuid","<name>"].
type NamedUUID string

// Set is an OVSDB set. It is encoded as ["set",[atoms...]]. Its elements are
// atoms: string, int64 (or any Go integer when encoding), float64, bool,
// UUID or NamedUUID.
type Set []any

// Map is an OVSDB map. It is encoded as ["map",[[key,value],...]], with keys
// in a stable order. Keys and values are atoms.
type Map map[any]any

// MarshalJSON encodes u as ["uuid", u].
func (u UUID) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{"uuid", string(u)})
}

// MarshalJSON encodes n as ["named-uuid", n].
func (n NamedUUID) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{"named-uuid", string(n)})
}

// MarshalJSON encodes s as ["set", [...]]; its elements must be atoms.
func (s Set) MarshalJSON() ([]byte, error) {
	elems := make([]any, len(s))
	for i, e := range s {
		a, err := encodeAtom(e)
		if err != nil {
			return nil, fmt.Errorf("set element %d: %w", i, err)
		}
		elems[i] = a
	}
	return json.Marshal([]any{"set", elems})
}

// MarshalJSON encodes m as ["map", [[k, v], ...]] sorted by key.
func (m Map) MarshalJSON() ([]byte, error) {
	pairs := make([][2]any, 0, len(m))
	for k, v := range m {
		ek, err := encodeAtom(k)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		ev, err := encodeAtom(v)
		if err != nil {
			return nil, fmt.Errorf("map value for %v: %w", k, err)
		}
		pairs = append(pairs, [2]any{ek, ev})
	}
	sort.Slice(pairs, func(i, j int) bool { return atomKey(pairs[i][0]) < atomKey(pairs[j][0]) })
	return json.Marshal([]any{"map", pairs})
}

// atomKey gives a sortable text for an atom (only used for stable output).
func atomKey(a any) string { return fmt.Sprintf("%T:%v", a, a) }

// encodeAtom checks that a is an atom and returns it ready for json.Marshal.
func encodeAtom(a any) (any, error) {
	switch v := a.(type) {
	case string, bool, float64, float32, UUID, NamedUUID:
		return v, nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return v, nil
	default:
		return nil, fmt.Errorf("ovsdb: %T is not an OVSDB atom", a)
	}
}

// EncodeValue converts a Go value into one that json.Marshal encodes as an
// OVSDB value. Besides atoms, Set and Map it accepts []string, []int,
// []int64, []UUID, map[string]string and map[string]int64 (converted to
// Set or Map), and nil (the empty set).
func EncodeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return Set{}, nil
	case Set, Map:
		return x, nil
	case []string:
		s := make(Set, len(x))
		for i, e := range x {
			s[i] = e
		}
		return s, nil
	case []int:
		s := make(Set, len(x))
		for i, e := range x {
			s[i] = e
		}
		return s, nil
	case []int64:
		s := make(Set, len(x))
		for i, e := range x {
			s[i] = e
		}
		return s, nil
	case []UUID:
		s := make(Set, len(x))
		for i, e := range x {
			s[i] = e
		}
		return s, nil
	case map[string]string:
		m := make(Map, len(x))
		for k, e := range x {
			m[k] = e
		}
		return m, nil
	case map[string]int64:
		m := make(Map, len(x))
		for k, e := range x {
			m[k] = e
		}
		return m, nil
	default:
		return encodeAtom(v)
	}
}

// DecodeValue parses the JSON encoding of an OVSDB value: an atom (string,
// number, boolean, ["uuid",..], ["named-uuid",..]), a ["set",[...]] or a
// ["map",[[k,v],...]]. Integers become int64, other numbers float64.
func DecodeValue(data []byte) (any, error) {
	var raw any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("ovsdb: value: %w", err)
	}
	if d.More() {
		return nil, fmt.Errorf("ovsdb: value: trailing data")
	}
	return valueFromJSON(raw)
}

// valueFromJSON converts a generic (UseNumber) JSON value into an OVSDB value.
func valueFromJSON(raw any) (any, error) {
	arr, ok := raw.([]any)
	if !ok || len(arr) != 2 {
		return atomFromJSON(raw)
	}
	tag, _ := arr[0].(string)
	switch tag {
	case "set":
		elems, ok := arr[1].([]any)
		if !ok {
			return nil, fmt.Errorf("ovsdb: set: want an array of atoms, got %T", arr[1])
		}
		s := make(Set, 0, len(elems))
		for _, e := range elems {
			a, err := atomFromJSON(e)
			if err != nil {
				return nil, fmt.Errorf("ovsdb: set element: %w", err)
			}
			s = append(s, a)
		}
		return s, nil
	case "map":
		pairs, ok := arr[1].([]any)
		if !ok {
			return nil, fmt.Errorf("ovsdb: map: want an array of pairs, got %T", arr[1])
		}
		m := make(Map, len(pairs))
		for _, p := range pairs {
			kv, ok := p.([]any)
			if !ok || len(kv) != 2 {
				return nil, fmt.Errorf("ovsdb: map: pair is not a 2-element array")
			}
			k, err := atomFromJSON(kv[0])
			if err != nil {
				return nil, fmt.Errorf("ovsdb: map key: %w", err)
			}
			v, err := atomFromJSON(kv[1])
			if err != nil {
				return nil, fmt.Errorf("ovsdb: map value: %w", err)
			}
			m[k] = v
		}
		return m, nil
	}
	return atomFromJSON(raw)
}

// atomFromJSON converts a generic JSON value into an OVSDB atom.
func atomFromJSON(raw any) (any, error) {
	switch v := raw.(type) {
	case string, bool:
		return v, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		f, err := v.Float64()
		if err != nil {
			return nil, fmt.Errorf("ovsdb: bad number %q", string(v))
		}
		return f, nil
	case float64: // only when decoded without UseNumber
		if v == float64(int64(v)) {
			return int64(v), nil
		}
		return v, nil
	case []any:
		if len(v) == 2 {
			tag, _ := v[0].(string)
			id, ok := v[1].(string)
			switch {
			case tag == "uuid" && ok:
				if !validUUID(id) {
					return nil, fmt.Errorf("ovsdb: malformed uuid %q", id)
				}
				return UUID(id), nil
			case tag == "named-uuid" && ok:
				return NamedUUID(id), nil
			}
		}
		return nil, fmt.Errorf("ovsdb: array is not an atom")
	case nil:
		return nil, fmt.Errorf("ovsdb: null is not an OVSDB value")
	default:
		return nil, fmt.Errorf("ovsdb: %T is not an OVSDB atom", raw)
	}
}

// validUUID reports whether s has the 8-4-4-4-12 hex form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) {
			return false
		}
	}
	return true
}
