package ovsdb

import (
	"encoding/json"
	"reflect"
	"testing"
)

const u1 = "36d4f2a2-6a41-4b4c-8d5f-0b0d7f0a0001"
const u2 = "36d4f2a2-6a41-4b4c-8d5f-0b0d7f0a0002"

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"string", "br-int", `"br-int"`},
		{"int", 7, `7`},
		{"bool", true, `true`},
		{"real", 1.5, `1.5`},
		{"uuid", UUID(u1), `["uuid","` + u1 + `"]`},
		{"named-uuid", NamedUUID("p"), `["named-uuid","p"]`},
		{"nil is the empty set", nil, `["set",[]]`},
		{"set", Set{"a", int64(2)}, `["set",["a",2]]`},
		{"string slice", []string{"OpenFlow13", "OpenFlow15"}, `["set",["OpenFlow13","OpenFlow15"]]`},
		{"uuid slice", []UUID{u1}, `["set",[["uuid","` + u1 + `"]]]`},
		{"map sorted", map[string]string{"remote_ip": "flow", "key": "flow"}, `["map",[["key","flow"],["remote_ip","flow"]]]`},
		{"empty map", Map{}, `["map",[]]`},
		{"int map", Map{int64(2): UUID(u2), int64(1): UUID(u1)}, `["map",[[1,["uuid","` + u1 + `"]],[2,["uuid","` + u2 + `"]]]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := EncodeValue(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestEncodeValueRejectsNonAtoms(t *testing.T) {
	for _, in := range []any{struct{}{}, []float64{1}, Set{Set{}}, Map{"k": Map{}}, map[int]int{1: 1}} {
		v, err := EncodeValue(in)
		if err == nil {
			_, err = json.Marshal(v)
		}
		if err == nil {
			t.Errorf("%#v: no error", in)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`"x"`, "x"},
		{`42`, int64(42)},
		{`-1`, int64(-1)},
		{`2.5`, 2.5},
		{`false`, false},
		{`["uuid","` + u1 + `"]`, UUID(u1)},
		{`["named-uuid","row1"]`, NamedUUID("row1")},
		{`["set",[]]`, Set{}},
		{`["set",[1,2]]`, Set{int64(1), int64(2)}},
		{`["set",[["uuid","` + u1 + `"]]]`, Set{UUID(u1)}},
		{`["map",[["a","b"],["c","d"]]]`, Map{"a": "b", "c": "d"}},
		{`["map",[[1,["uuid","` + u2 + `"]]]]`, Map{int64(1): UUID(u2)}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := DecodeValue([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			// Round trip.
			enc, err := EncodeValue(got)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(enc)
			again, err := DecodeValue(b)
			if err != nil || !reflect.DeepEqual(again, tt.want) {
				t.Fatalf("round trip %s -> %#v, %v", b, again, err)
			}
		})
	}
}

func TestDecodeValueErrors(t *testing.T) {
	for _, in := range []string{
		``, `null`, `{}`, `[]`, `["uuid","not-a-uuid"]`, `["uuid",1]`, `["set",[["set",[]]]]`,
		`["set",{}]`, `["map",[["a"]]]`, `["map",[[["set",[]],"b"]]]`, `["map",{}]`, `["bogus",1]`, `"a" "b"`, `[1,2,3]`,
	} {
		if v, err := DecodeValue([]byte(in)); err == nil {
			t.Errorf("DecodeValue(%s) = %#v, want an error", in, v)
		}
	}
}

func TestRowAccessors(t *testing.T) {
	row, err := DecodeRow([]byte(`{"_uuid":["uuid","` + u1 + `"],"name":"gw0","ofport":2,"fail_mode":["set",["secure"]],
		"mtu":["set",[]],"protocols":["set",["OpenFlow15","OpenFlow10"]],"external_ids":["map",[["k","v"]]],
		"ports":["set",[["uuid","` + u1 + `"],["uuid","` + u2 + `"]]],"single":["uuid","` + u2 + `"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if row.UUID() != u1 || row.String("name") != "gw0" || row.String("fail_mode") != "secure" || row.String("missing") != "" {
		t.Errorf("string accessors: %v", row)
	}
	if n, ok := row.Int("ofport"); !ok || n != 2 {
		t.Errorf("Int(ofport) = %d, %v", n, ok)
	}
	if _, ok := row.Int("mtu"); ok {
		t.Error("Int of an empty set reported ok")
	}
	if got := row.Strings("protocols"); !reflect.DeepEqual(got, []string{"OpenFlow10", "OpenFlow15"}) {
		t.Errorf("Strings = %v", got)
	}
	if got := row.StringMap("external_ids"); !reflect.DeepEqual(got, map[string]string{"k": "v"}) {
		t.Errorf("StringMap = %v", got)
	}
	if got := row.UUIDs("ports"); len(got) != 2 {
		t.Errorf("UUIDs(ports) = %v", got)
	}
	if got := row.UUIDs("single"); !reflect.DeepEqual(got, []UUID{u2}) {
		t.Errorf("UUIDs(single) = %v", got)
	}
}
