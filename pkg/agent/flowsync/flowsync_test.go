package flowsync

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
)

type fakeFlow struct{ key, text string }

func (f fakeFlow) Key() string    { return f.key }
func (f fakeFlow) String() string { return f.key + " " + f.text }

// fakeSwitch is a bridge with real semantics for a flow table keyed by Key.
type fakeSwitch struct {
	flows   map[string]fakeFlow
	applies int
	fail    bool
}

func (s *fakeSwitch) Installed(context.Context) ([]fakeFlow, error) {
	var out []fakeFlow
	for _, f := range s.flows {
		out = append(out, f)
	}
	return out, nil
}

func (s *fakeSwitch) Apply(_ context.Context, add, mod, del []fakeFlow) error {
	if s.fail {
		return errors.New("bundle rejected")
	}
	s.applies++
	for _, f := range append(add, mod...) {
		s.flows[f.key] = f
	}
	for _, f := range del {
		delete(s.flows, f.key)
	}
	return nil
}

func (s *fakeSwitch) texts() []string {
	var out []string
	for _, f := range s.flows {
		out = append(out, f.String())
	}
	sort.Strings(out)
	return out
}

// syncStep changes the desired state (do), syncs, and expects the sync's
// stats and the flows on the bridge afterwards.
type syncStep struct {
	name  string
	do    func()
	want  Stats
	flows []string
}

func runSyncSteps(t *testing.T, s *Syncer[fakeFlow], sw *fakeSwitch, steps []syncStep) {
	t.Helper()
	for _, st := range steps {
		st.do()
		got, err := s.Sync(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Errorf("%s: stats %+v, want %+v", st.name, got, st.want)
		}
		if !reflect.DeepEqual(sw.texts(), st.flows) {
			t.Errorf("%s: bridge %v, want %v", st.name, sw.texts(), st.flows)
		}
	}
}

func TestSync(t *testing.T) {
	// a flow left by a previous agent run, one stale and one still wanted
	sw := &fakeSwitch{flows: map[string]fakeFlow{
		"t0 p0": {"t0 p0", "drop"},
		"old":   {"old", "x"},
	}}
	s := New[fakeFlow](sw)
	s.Set("base", []fakeFlow{{"t0 p0", "drop"}})
	s.Set("pod-a", []fakeFlow{{"a1", "out:3"}, {"a2", "out:3"}})

	steps := []syncStep{
		{"converge from a previous run", func() {}, Stats{Added: 2, Deleted: 1}, []string{"a1 out:3", "a2 out:3", "t0 p0 drop"}},
		{"nothing to do", func() {}, Stats{}, []string{"a1 out:3", "a2 out:3", "t0 p0 drop"}},
		{"modify one flow", func() { s.Set("pod-a", []fakeFlow{{"a1", "out:4"}, {"a2", "out:3"}}) }, Stats{Modified: 1}, []string{"a1 out:4", "a2 out:3", "t0 p0 drop"}},
		{"remove an owner", func() { s.Set("pod-a", nil) }, Stats{Deleted: 2}, []string{"t0 p0 drop"}},
		{"bridge lost its flows", func() { sw.flows = map[string]fakeFlow{}; s.Invalidate() }, Stats{Added: 1}, []string{"t0 p0 drop"}},
	}
	runSyncSteps(t, s, sw, steps)
}

func TestSyncFailureRereads(t *testing.T) {
	ctx := context.Background()
	sw := &fakeSwitch{flows: map[string]fakeFlow{}, fail: true}
	s := New[fakeFlow](sw)
	s.Set("x", []fakeFlow{{"k", "a"}})
	if _, err := s.Sync(ctx); err == nil {
		t.Fatal("expected the bundle error")
	}
	sw.fail = false
	if st, err := s.Sync(ctx); err != nil || st.Added != 1 {
		t.Fatalf("retry: %+v %v", st, err)
	}
}

// TestConflictingOwners: two owners wanting different flows under one key
// do not fail the sync (every other owner's flows go in): the later claim
// wins, the conflict is reported, and when the winner leaves the other
// owner's flow is installed.
func TestConflictingOwners(t *testing.T) {
	sw := &fakeSwitch{flows: map[string]fakeFlow{}}
	s := New[fakeFlow](sw)
	var reported []string
	s.OnConflict = func(key, loser, winner string) { reported = append(reported, key+" "+loser+"<"+winner) }
	s.Set("a", []fakeFlow{{"k", "x"}})
	s.Set("b", []fakeFlow{{"k", "y"}, {"m", "z"}})
	steps := []syncStep{
		{"the later claim wins, the rest goes in", func() {}, Stats{Added: 2}, []string{"k y", "m z"}},
		{"the winner leaves", func() { s.Set("b", nil) }, Stats{Modified: 1, Deleted: 1}, []string{"k x"}},
	}
	runSyncSteps(t, s, sw, steps)
	if len(reported) != 1 || reported[0] != "k a<b" {
		t.Errorf("reported %q, want [k a<b]", reported)
	}
}

func TestSharedAndMovedKeys(t *testing.T) {
	sw := &fakeSwitch{flows: map[string]fakeFlow{}}
	s := New[fakeFlow](sw)
	s.Set("a", []fakeFlow{{"k", "x"}, {"m", "y"}})
	s.Set("b", []fakeFlow{{"k", "x"}})
	steps := []syncStep{
		{"two owners share one flow", func() {}, Stats{Added: 2}, []string{"k x", "m y"}},
		{"one sharer leaves, the flow stays", func() { s.Set("a", []fakeFlow{{"m", "y"}}) }, Stats{}, []string{"k x", "m y"}},
		{"a key moves to another owner", func() { s.Set("a", nil); s.Set("c", []fakeFlow{{"m", "z"}}) }, Stats{Modified: 1}, []string{"k x", "m z"}},
		{"last sharer leaves", func() { s.Set("b", nil) }, Stats{Deleted: 1}, []string{"m z"}},
	}
	runSyncSteps(t, s, sw, steps)
}

// TestHoldDeletes: an agent that starts on a bridge full of the previous
// run's flows syncs one owner (policies) before the others (pods, node) have
// set theirs; nothing installed may be deleted until the state is complete.
func TestHoldDeletes(t *testing.T) {
	sw := &fakeSwitch{flows: map[string]fakeFlow{
		"base":  {"base", "drop"},
		"pod":   {"pod", "out:3"},
		"stale": {"stale", "x"},
	}}
	s := New[fakeFlow](sw)
	s.HoldDeletes()
	steps := []syncStep{
		{"first owner syncs alone", func() { s.Set("policy", []fakeFlow{{"np", "conj"}}) },
			Stats{Added: 1}, []string{"base drop", "np conj", "pod out:3", "stale x"}},
		{"an owner changes a held flow", func() { s.Set("pods", []fakeFlow{{"pod", "out:4"}}) },
			Stats{Modified: 1}, []string{"base drop", "np conj", "pod out:4", "stale x"}},
		{"reconnect while held", func() { s.Invalidate() },
			Stats{}, []string{"base drop", "np conj", "pod out:4", "stale x"}},
		{"complete, released: only the unclaimed flow goes", func() {
			s.Set("node", []fakeFlow{{"base", "drop"}})
			s.ReleaseDeletes()
		}, Stats{Deleted: 1}, []string{"base drop", "np conj", "pod out:4"}},
		{"released: a removed owner's flows are deleted", func() { s.Set("policy", nil) },
			Stats{Deleted: 1}, []string{"base drop", "pod out:4"}},
	}
	runSyncSteps(t, s, sw, steps)
}
