package ovsdb

import (
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	`{"method":"echo","params":[],"id":"echo"}`,
	`{"id":1,"result":[{"count":1}],"error":null}`,
	`{"id":2,"result":null,"error":{"error":"syntax error","details":"x"}}`,
	`{"method":"update","params":["m",{"Interface":{"` + u1 + `":{"new":{"name":"p","ofport":1,"options":["map",[["k","v"]]]}}}}],"id":null}`,
	`{"method":"update2","params":["kubefay-1",{"Interface":{"` + u1 + `":{"modify":{"ofport":["set",[1,2]],"tags":3}}}}],"id":null}`,
	`{"method":"update2","params":["kubefay-1",{"Interface":{"` + u1 + `":{"delete":null}}}],"id":null}`,
	`{"method":"update2","params":["kubefay-1",{"Interface":{"` + u2 + `":{"insert":{"name":["set",["x"]],"options":["map",[[1,["uuid","` + u1 + `"]]]]}}}}],"id":null}`,
	`{"method":"update","params":[]}`, `[`, `{"id":null}`, `["set",[["set",[]]]]`,
}

// FuzzDecodeMessage: any input is decoded or rejected with ErrMalformed.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error not wrapping ErrMalformed: %v", err)
			}
			return
		}
		switch m.Kind {
		case KindRequest, KindNotification:
			if m.Method == "" || m.Params == nil {
				t.Fatalf("accepted %+v", m)
			}
		case KindResponse:
			if m.ID == nil {
				t.Fatalf("response without id: %+v", m)
			}
		default:
			t.Fatalf("kind %d", m.Kind)
		}
	})
}

// FuzzNotification: decoding a notification and applying it to a cache
// (with a schema, both update flavours) never panics.
func FuzzNotification(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	schema := mustSchema(f)
	init, err := DecodeTableUpdates2([]byte(`{"Interface":{"` + u1 + `":{"initial":{"name":"p","ofport":5,"options":["map",[["a","1"]]],"tags":["set",[1,2]]}}}}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data)
		if err != nil || m.Kind != KindNotification {
			return
		}
		n, err := DecodeNotification(m)
		if err != nil {
			return
		}
		c := newCache()
		if err := c.load(schema, init); err != nil {
			t.Fatal(err)
		}
		_ = c.apply(n.Updates)
		for _, r := range c.Rows("Interface") {
			_ = r.String("name")
			_, _ = r.Int("ofport")
			_ = r.StringMap("options")
			_ = r.Strings("tags")
			_ = r.UUIDs("tags")
			if _, err := json.Marshal(map[string]any(r)); err != nil {
				_ = err // non-atom garbage may not re-encode; it must not panic
			}
		}
	})
}

// FuzzDecodeValue: values decode or fail; decoded values re-encode to an
// equal value.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range []string{`1`, `"s"`, `["uuid","` + u1 + `"]`, `["set",[1,"a",true]]`, `["map",[["a",1]]]`, `["named-uuid","x"]`, `1e400`, `-0.5`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeValue(data)
		if err != nil {
			return
		}
		enc, err := EncodeValue(v)
		if err != nil {
			t.Fatalf("decoded %#v does not re-encode: %v", v, err)
		}
		b, err := json.Marshal(enc)
		if err != nil {
			t.Fatalf("marshal %#v: %v", v, err)
		}
		if _, err := DecodeValue(b); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", b, err)
		}
	})
}

// FuzzConnStream feeds a byte stream to a live connection's read loop: it
// must end (the stream ends or is rejected) without panicking or hanging.
func FuzzConnStream(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s + s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		cache := newCache()
		conn := newRPCConn(client, func(_ *rpcConn, m *Message) {
			if n, err := DecodeNotification(m); err == nil {
				_ = cache.apply(n.Updates)
			}
		})
		go func() {
			// Drain whatever the client answers (echo replies).
			buf := make([]byte, 4096)
			for {
				if _, err := server.Read(buf); err != nil {
					return
				}
			}
		}()
		_, _ = server.Write(data)
		_ = server.Close()
		select {
		case <-conn.done:
		case <-time.After(10 * time.Second):
			t.Fatal("read loop did not end")
		}
	})
}
