package ovsdb

import (
	"errors"
	"reflect"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	tests := []struct {
		in     string
		kind   MessageKind
		method string
		nParam int
		isErr  bool
	}{
		{`{"method":"echo","params":[],"id":"echo"}`, KindRequest, "echo", 0, false},
		{`{"method":"update2","params":["m",{}],"id":null}`, KindNotification, "update2", 2, false},
		{`{"method":"locked","params":["l"]}`, KindNotification, "locked", 1, false},
		{`{"id":3,"result":["Open_vSwitch"],"error":null}`, KindResponse, "", 0, false},
		{`{"id":4,"result":null,"error":{"error":"unknown method"}}`, KindResponse, "", 0, true},
		{`{"id":5,"error":"x"}`, KindResponse, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := DecodeMessage([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != tt.kind || m.Method != tt.method || len(m.Params) != tt.nParam || (m.Error != nil) != tt.isErr {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	for _, in := range []string{
		``, `null`, `[]`, `"x"`, `{`, `{}`, `{"method":1,"params":[]}`, `{"method":"","params":[]}`,
		`{"method":"echo"}`, `{"method":"echo","params":{}}`, `{"method":"echo","params":null}`,
		`{"result":1}`, `{"id":null,"result":1}`, `{"id":1}`,
	} {
		if _, err := DecodeMessage([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", in, err)
		}
	}
}

func TestDecodeNotification(t *testing.T) {
	upd1 := `{"method":"update","params":["mon",{"Interface":{"` + u1 + `":{"new":{"name":"gw0","ofport":2}},
		"` + u2 + `":{"old":{"name":"x"}}}}],"id":null}`
	upd2 := `{"method":"update2","params":[["a",1],{"Interface":{"` + u1 + `":{"modify":{"ofport":3}},
		"` + u2 + `":{"delete":null}}}],"id":null}`
	tests := []struct {
		in    string
		v2    bool
		kinds map[UUID]UpdateKind
	}{
		{upd1, false, map[UUID]UpdateKind{u1: RowInsert, u2: RowDelete}},
		{upd2, true, map[UUID]UpdateKind{u1: RowModify, u2: RowDelete}},
	}
	for _, tt := range tests {
		m, err := DecodeMessage([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		n, err := DecodeNotification(m)
		if err != nil {
			t.Fatal(err)
		}
		got := map[UUID]UpdateKind{}
		for id, ru := range n.Updates["Interface"] {
			got[id] = ru.Kind
		}
		if n.V2 != tt.v2 || !reflect.DeepEqual(got, tt.kinds) {
			t.Errorf("%s: v2=%v kinds=%v", m.Method, n.V2, got)
		}
	}
	bad := []string{
		`{"method":"update","params":["m"],"id":null}`,
		`{"method":"update","params":["m",[]],"id":null}`,
		`{"method":"update","params":["m",{"T":{"not-a-uuid":{"new":{}}}}],"id":null}`,
		`{"method":"update","params":["m",{"T":{"` + u1 + `":{}}}],"id":null}`,
		`{"method":"update","params":["m",{"T":{"` + u1 + `":{"new":{"c":null}}}}],"id":null}`,
		`{"method":"update2","params":["m",{"T":{"` + u1 + `":{"insert":{},"delete":null}}}],"id":null}`,
		`{"method":"update2","params":["m",{"T":{"` + u1 + `":{"frob":{}}}}],"id":null}`,
		`{"method":"update2","params":["m",{"T":{"` + u1 + `":{"modify":[]}}}],"id":null}`,
		`{"method":"echo","params":[],"id":null}`,
		`{"method":"update","params":["m",{}],"id":1}`,
	}
	for _, in := range bad {
		m, err := DecodeMessage([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if _, err := DecodeNotification(m); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", in, err)
		}
	}
}
