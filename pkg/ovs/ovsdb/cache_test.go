package ovsdb

import (
	"context"
	"reflect"
	"testing"
	"time"
)

const testSchema = `{"name":"T","version":"1.0.0","tables":{"Interface":{"columns":{
	"name":{"type":"string"},
	"ofport":{"type":{"key":"integer","min":0,"max":1}},
	"options":{"type":{"key":"string","value":"string","min":0,"max":"unlimited"}},
	"tags":{"type":{"key":{"type":"integer"},"min":0,"max":4096}},
	"type":{"type":{"key":{"type":"string"}}}}}}}`

func mustSchema(t testing.TB) *Schema {
	s, err := ParseSchema([]byte(testSchema))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseSchemaKinds(t *testing.T) {
	s := mustSchema(t)
	want := map[string]ColumnKind{"name": KindAtom, "ofport": KindOptional, "options": KindMap, "tags": KindSet, "type": KindAtom}
	if !reflect.DeepEqual(s.Tables["Interface"], want) {
		t.Fatalf("kinds = %v", s.Tables["Interface"])
	}
	if _, err := ParseSchema([]byte(`{"tables":{"T":{"columns":{"c":{"type":{"key":"integer","max":true}}}}}}`)); err == nil {
		t.Error("bad max accepted")
	}
}

// TestCacheUpdate2 applies initial contents and update2 diffs, the way
// ovsdb-server sends them, and checks the resulting rows.
func TestCacheUpdate2(t *testing.T) {
	steps := []struct {
		name    string
		updates string
		want    Row // row u1 after the step (nil: absent)
	}{
		{"initial (optional column as bare atom)", `{"Interface":{"` + u1 + `":{"initial":{"name":"p","ofport":5,"options":["map",[["a","1"],["b","2"]]],"tags":["set",[1,2]]}}}}`,
			Row{"name": "p", "ofport": Set{int64(5)}, "options": Map{"a": "1", "b": "2"}, "tags": Set{int64(1), int64(2)}}},
		{"modify: optional gets its new value, set diff toggles, map diff removes equal/sets others", `{"Interface":{"` + u1 + `":{"modify":{"ofport":7,"options":["map",[["a","1"],["b","3"],["c","4"]]],"tags":2}}}}`,
			Row{"name": "p", "ofport": Set{int64(7)}, "options": Map{"b": "3", "c": "4"}, "tags": Set{int64(1)}}},
		{"modify: atom replaced, optional emptied", `{"Interface":{"` + u1 + `":{"modify":{"name":"q","ofport":["set",[]]}}}}`,
			Row{"name": "q", "ofport": Set{}, "options": Map{"b": "3", "c": "4"}, "tags": Set{int64(1)}}},
		{"delete", `{"Interface":{"` + u1 + `":{"delete":null}}}`, nil},
	}
	c := newCache()
	schema := mustSchema(t)
	for i, st := range steps {
		u, err := DecodeTableUpdates2([]byte(st.updates))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if i == 0 {
			err = c.load(schema, u)
		} else {
			err = c.apply(u)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, ok := c.Row("Interface", u1)
		if st.want == nil {
			if ok {
				t.Fatalf("%s: row still present: %v", st.name, got)
			}
			if _, ok := c.RowByName("Interface", "q"); ok {
				t.Fatalf("%s: name index not cleaned", st.name)
			}
			continue
		}
		st.want["_uuid"] = UUID(u1)
		if !reflect.DeepEqual(got, st.want) {
			t.Fatalf("%s:\n got  %#v\n want %#v", st.name, got, st.want)
		}
		if byName, ok := c.RowByName("Interface", st.want.String("name")); !ok || byName.UUID() != u1 {
			t.Fatalf("%s: RowByName failed", st.name)
		}
	}
}

func TestCacheUpdateV1(t *testing.T) {
	c := newCache()
	ins, _ := DecodeTableUpdates([]byte(`{"Interface":{"` + u1 + `":{"new":{"name":"p","ofport":["set",[]],"options":["map",[]]}}}}`))
	if err := c.load(mustSchema(t), ins); err != nil {
		t.Fatal(err)
	}
	mod, _ := DecodeTableUpdates([]byte(`{"Interface":{"` + u1 + `":{"old":{"ofport":["set",[]]},"new":{"name":"p","ofport":3,"options":["map",[]]}}}}`))
	if err := c.apply(mod); err != nil {
		t.Fatal(err)
	}
	r, _ := c.Row("Interface", u1)
	if n, ok := r.Int("ofport"); !ok || n != 3 || !reflect.DeepEqual(r["ofport"], Set{int64(3)}) {
		t.Fatalf("row after modify = %#v", r)
	}
}

func TestCacheRejectsBadDiffs(t *testing.T) {
	c := newCache()
	schema := mustSchema(t)
	init, _ := DecodeTableUpdates2([]byte(`{"Interface":{"` + u1 + `":{"initial":{"name":"p"}}}}`))
	if err := c.load(schema, init); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"Interface":{"` + u1 + `":{"modify":{"options":"x"}}}}`,
		`{"Interface":{"` + u1 + `":{"modify":{"tags":["map",[]]}}}}`,
	} {
		u, err := DecodeTableUpdates2([]byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.apply(u); err == nil {
			t.Errorf("%s applied without error", bad)
		}
	}
}

func TestCacheWaitFor(t *testing.T) {
	c := newCache()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- c.WaitFor(ctx, func() bool { _, ok := c.RowByName("Interface", "late"); return ok })
	}()
	u, _ := DecodeTableUpdates2([]byte(`{"Interface":{"` + u1 + `":{"insert":{"name":"other"}}}}`))
	_ = c.apply(u)
	u, _ = DecodeTableUpdates2([]byte(`{"Interface":{"` + u2 + `":{"insert":{"name":"late"}}}}`))
	_ = c.apply(u)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := c.WaitFor(short, func() bool { return false }); err != context.Canceled {
		t.Fatalf("WaitFor on a cancelled context = %v", err)
	}
}
