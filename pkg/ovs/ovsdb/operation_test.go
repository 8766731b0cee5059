package ovsdb

import (
	"encoding/json"
	"testing"
)

func TestOperationJSON(t *testing.T) {
	tests := []struct {
		name string
		op   Operation
		want string
	}{
		{"insert with named uuid", Operation{Op: OpInsert, Table: "Port", UUIDName: "p",
			Row: map[string]any{"name": "gw0", "interfaces": Set{NamedUUID("i")}}},
			`{"op":"insert","row":{"interfaces":["set",[["named-uuid","i"]]],"name":"gw0"},"table":"Port","uuid-name":"p"}`},
		{"update by uuid", Operation{Op: OpUpdate, Table: "Interface", Where: byUUID(u1), Row: map[string]any{"mtu_request": Set{}}},
			`{"op":"update","row":{"mtu_request":["set",[]]},"table":"Interface","where":[["_uuid","==",["uuid","` + u1 + `"]]]}`},
		{"mutate", Operation{Op: OpMutate, Table: "Open_vSwitch", Mutations: []Mutation{Mutate("next_cfg", "+=", 1),
			Mutate("external_ids", "delete", Set{"k"})}},
			`{"mutations":[["next_cfg","+=",1],["external_ids","delete",["set",["k"]]]],"op":"mutate","table":"Open_vSwitch","where":[]}`},
		{"delete sends an empty where", Operation{Op: OpDelete, Table: "Bridge"}, `{"op":"delete","table":"Bridge","where":[]}`},
		{"select columns", Operation{Op: OpSelect, Table: "Bridge", Where: []Condition{Where("name", "==", "br-int")}, Columns: []string{"name"}},
			`{"columns":["name"],"op":"select","table":"Bridge","where":[["name","==","br-int"]]}`},
		{"wait", Operation{Op: OpWait, Table: "Port", Where: []Condition{Where("name", "==", "p")}, Columns: []string{"name"}, Until: "==", Rows: []map[string]any{}},
			`{"columns":["name"],"op":"wait","rows":[],"table":"Port","timeout":0,"until":"==","where":[["name","==","p"]]}`},
		{"comment", Operation{Op: OpComment, Comment: "kubefay"}, `{"comment":"kubefay","op":"comment"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.op)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
	if _, err := json.Marshal(Operation{Op: "frobnicate"}); err == nil {
		t.Error("unknown op encoded")
	}
	if _, err := json.Marshal(Operation{Op: OpInsert, Table: "T", Row: map[string]any{"x": struct{}{}}}); err == nil {
		t.Error("bad value encoded")
	}
}

func TestDecodeTransactResult(t *testing.T) {
	ops := []Operation{{Op: OpInsert, Table: "Port"}, {Op: OpMutate, Table: "Bridge"}, {Op: OpSelect, Table: "Bridge"}}
	tests := []struct {
		name      string
		raw       string
		wantIndex int // -1: success
		wantOp    string
		wantText  string
	}{
		{"success", `[{"uuid":["uuid","` + u1 + `"]},{"count":1},{"rows":[{"name":"br-int"}]}]`, -1, "", ""},
		{"op error", `[{"uuid":["uuid","` + u1 + `"]},{"error":"constraint violation","details":"bad"},null]`, 1, "mutate",
			"ovsdb: transaction failed at operation 1 (mutate Bridge): constraint violation: bad"},
		{"commit error", `[{},{"count":1},{"rows":[]},{"error":"referential integrity violation","details":"dangling"}]`, 3, "commit",
			"ovsdb: transaction failed at operation 3 (commit): referential integrity violation: dangling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := decodeTransactResult(json.RawMessage(tt.raw), ops)
			if tt.wantIndex < 0 {
				if err != nil {
					t.Fatal(err)
				}
				if res[0].UUID != u1 || res[1].Count != 1 || res[2].Rows[0].String("name") != "br-int" {
					t.Fatalf("results = %+v", res)
				}
				return
			}
			te, ok := err.(*TransactionError)
			if !ok {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if te.Index != tt.wantIndex || te.Op != tt.wantOp || te.Error() != tt.wantText {
				t.Fatalf("got %+v / %q", te, te.Error())
			}
			if tt.name == "op error" && !te.Results[2].Skipped {
				t.Error("null result not marked skipped")
			}
		})
	}
	for _, bad := range []string{`{}`, `[{"uuid":"x"}]`, `[{"count":"x"}]`, `[{"rows":[{"a":null}]}]`, `[{}]`} {
		if _, err := decodeTransactResult(json.RawMessage(bad), ops); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestRPCErrorText(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`{"error":"unknown database","details":"x"}`, "ovsdb: get_schema: unknown database: x"},
		{`{"error":"syntax error"}`, "ovsdb: get_schema: syntax error"},
		{`"not supported"`, "ovsdb: get_schema: not supported"},
		{`42`, "ovsdb: get_schema: 42"},
	}
	for _, tt := range tests {
		if got := (&RPCError{Method: "get_schema", Raw: json.RawMessage(tt.raw)}).Error(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.raw, got, tt.want)
		}
	}
}
