// Package flowsync keeps br-int's flows equal to the desired set: it diffs
// the desired flows against what is installed and applies the difference in
// one atomic OpenFlow bundle. After ovs-vswitchd restarts (all flows lost) or
// when the agent starts (flows of the previous run still installed), Resync
// reads the installed flows back and converges from there, so an agent
// restart does not disturb traffic.
//
// Between full resyncs the work is incremental: Set marks the keys of the
// owner's old and new flows dirty and Sync diffs only those, so changing one
// pod among 100 000 NetworkPolicy flows costs what that pod's flows cost.
package flowsync

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Flow is what the syncer needs of a flow: an identity (table, priority and
// match — two flows with the same key cannot coexist in OVS) and a full
// rendering including cookie and actions, to detect changes.
type Flow interface {
	Key() string
	String() string
}

// Switch is the bridge side: read installed flows, apply a diff atomically.
type Switch[F Flow] interface {
	// Installed returns the flows on the bridge that this syncer owns.
	Installed(ctx context.Context) ([]F, error)
	// Apply adds, modifies (strict, same key) and deletes (strict) flows in
	// one bundle: all or nothing.
	Apply(ctx context.Context, add, modify, del []F) error
}

// Stats counts what one Sync did.
type Stats struct{ Added, Modified, Deleted int }

// entry is a flow with its key and rendering, each computed once.
type entry[F Flow] struct {
	flow F
	key  string
	text string
}

func newEntry[F Flow](f F) entry[F] { return entry[F]{flow: f, key: f.Key(), text: f.String()} }

// claim is one owner's wish for the flow under a key.
type claim[F Flow] struct {
	owner string
	entry[F]
}

// Syncer owns the desired flows, grouped by an owner key (a feature or an
// object such as a pod), and the view of what is installed.
//
// Sync computes its diff under mu and applies it outside mu, holding only
// applyMu (one apply at a time): Set and the diff of other callers never
// wait for an OVS round trip, and a Sync that waited for applyMu finds the
// flows Set meanwhile still dirty and applies them all in one bundle.
type Syncer[F Flow] struct {
	sw Switch[F]

	applyMu sync.Mutex // held by Sync across reading and applying: one bundle at a time

	mu        sync.Mutex
	desired   map[string][]entry[F] // owner -> flows
	byKey     map[string][]claim[F] // flow key -> owners wanting it (normally one)
	dirty     map[string]struct{}   // keys whose desired state changed since the last Sync
	installed map[string]entry[F]   // flow key -> flow as installed
	synced    bool                  // installed reflects the bridge
	epoch     uint64                // counts Invalidate calls: one during a Sync keeps synced false
	hold      bool                  // keep installed flows nobody claims (see HoldDeletes)

	// OnConflict, when set, is told of a key two owners want different
	// flows under (the later claim is installed). Set it before use.
	OnConflict func(key, loser, winner string)
	held       map[string]struct{} // keys not deleted because of hold
}

// New returns a syncer for sw with nothing desired yet.
func New[F Flow](sw Switch[F]) *Syncer[F] {
	return &Syncer[F]{sw: sw, desired: map[string][]entry[F]{}, byKey: map[string][]claim[F]{},
		dirty: map[string]struct{}{}, installed: map[string]entry[F]{}, held: map[string]struct{}{}}
}

// HoldDeletes makes Sync add and modify flows but keep installed flows that
// no owner claims. An agent that starts (or reconnects) calls it before its
// owners have set their flows, so that a partial desired state never deletes
// the flows that still forward traffic; ReleaseDeletes ends it.
func (s *Syncer[F]) HoldDeletes() {
	s.mu.Lock()
	s.hold = true
	s.mu.Unlock()
}

// ReleaseDeletes ends HoldDeletes: the next Sync deletes every installed flow
// still unclaimed. Call it once the desired state is complete.
func (s *Syncer[F]) ReleaseDeletes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = false
	for k := range s.held {
		s.dirty[k] = struct{}{}
	}
	s.held = map[string]struct{}{}
}

// Set replaces the desired flows of owner (nil or empty removes them). It
// does not touch the bridge; call Sync.
func (s *Syncer[F]) Set(owner string, flows []F) {
	entries := make([]entry[F], len(flows))
	for i, f := range flows {
		entries[i] = newEntry(f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.desired[owner] {
		s.byKey[e.key] = dropOwner(s.byKey[e.key], owner)
		if len(s.byKey[e.key]) == 0 {
			delete(s.byKey, e.key)
		}
		s.dirty[e.key] = struct{}{}
	}
	if len(entries) == 0 {
		delete(s.desired, owner)
		return
	}
	s.desired[owner] = entries
	for _, e := range entries {
		s.byKey[e.key] = append(s.byKey[e.key], claim[F]{owner, e})
		s.dirty[e.key] = struct{}{}
	}
}

func dropOwner[F Flow](cs []claim[F], owner string) []claim[F] {
	out := cs[:0]
	for _, c := range cs {
		if c.owner != owner {
			out = append(out, c)
		}
	}
	return out
}

// SetAndSync replaces owner's flows and applies the difference at once; the
// per-pod path uses it so a pod's flows are in OVS before CNI ADD returns.
func (s *Syncer[F]) SetAndSync(ctx context.Context, owner string, flows []F) (Stats, error) {
	s.Set(owner, flows)
	return s.Sync(ctx)
}

// Desired returns every desired flow (the installed claim of each key),
// sorted by key.
func (s *Syncer[F]) Desired() []F {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]F, 0, len(s.byKey))
	for _, cs := range s.byKey {
		out = append(out, cs[len(cs)-1].flow)
	}
	sortFlows(out)
	return out
}

// Owners returns a snapshot of every owner's desired flows (fresh slices;
// the flows themselves are shared: do not modify them).
func (s *Syncer[F]) Owners() map[string][]F {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]F, len(s.desired))
	for owner, es := range s.desired {
		out[owner] = flowsOf(es)
	}
	return out
}

// Invalidate forgets the installed view; the next Sync reads the bridge
// first. Call it when the OpenFlow connection is (re)established.
func (s *Syncer[F]) Invalidate() {
	s.mu.Lock()
	s.synced = false
	s.epoch++
	s.mu.Unlock()
}

// Sync applies the difference between desired and installed flows in one
// bundle: of the dirty keys only, or of everything after Invalidate or a
// failure (then the installed view is re-read from the bridge first). When
// it returns nil, every flow Set before the call is installed.
func (s *Syncer[F]) Sync(ctx context.Context) (Stats, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	synced, epoch := s.synced, s.epoch
	s.mu.Unlock()
	var read []F
	if !synced {
		flows, err := s.sw.Installed(ctx)
		if err != nil {
			return Stats{}, fmt.Errorf("read installed flows: %w", err)
		}
		read = flows
	}

	s.mu.Lock()
	keys := s.dirty
	if !synced {
		s.installed = make(map[string]entry[F], len(read))
		keys = make(map[string]struct{}, len(read)+len(s.byKey))
		for _, f := range read {
			e := newEntry(f)
			s.installed[e.key] = e
			keys[e.key] = struct{}{}
		}
		for k := range s.byKey {
			keys[k] = struct{}{}
		}
	}
	s.dirty = map[string]struct{}{}
	add, mod, del := s.diff(keys)
	s.mu.Unlock()

	st := Stats{Added: len(add), Modified: len(mod), Deleted: len(del)}
	var err error
	if st != (Stats{}) {
		err = s.sw.Apply(ctx, flowsOf(add), flowsOf(mod), flowsOf(del))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		// the bridge may hold part of it or none: read it back next time,
		// and keep these keys dirty in case that read fails too
		s.synced = false
		for k := range keys {
			s.dirty[k] = struct{}{}
		}
		return Stats{}, err
	}
	for _, e := range add {
		s.installed[e.key] = e
	}
	for _, e := range mod {
		s.installed[e.key] = e
	}
	for _, e := range del {
		delete(s.installed, e.key)
	}
	s.synced = s.epoch == epoch
	return st, nil
}

// diff returns what to add, modify and delete for keys, sorted by key.
// Called with mu held.
func (s *Syncer[F]) diff(keys map[string]struct{}) (add, mod, del []entry[F]) {
	for k := range keys {
		cur, inst := s.installed[k]
		cs, want := s.byKey[k]
		if !want {
			switch {
			case inst && s.hold:
				s.held[k] = struct{}{}
			case inst:
				del = append(del, cur)
			}
			continue
		}
		// owners wanting different flows under one key: the latest claim
		// wins and the conflict is reported; it must not stop every
		// other owner's sync (e.g. an address moved to a new pod while the
		// old pod's flows are still there)
		win := cs[len(cs)-1]
		for _, c := range cs[:len(cs)-1] {
			if c.text != win.text && s.OnConflict != nil {
				s.OnConflict(k, c.owner, win.owner)
			}
		}
		switch {
		case !inst:
			add = append(add, win.entry)
		case cur.text != win.text:
			mod = append(mod, win.entry)
		}
	}
	for _, l := range [][]entry[F]{add, mod, del} {
		sort.Slice(l, func(i, j int) bool { return l[i].key < l[j].key })
	}
	return add, mod, del
}

func flowsOf[F Flow](es []entry[F]) []F {
	out := make([]F, len(es))
	for i, e := range es {
		out[i] = e.flow
	}
	return out
}

func sortFlows[F Flow](fs []F) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key() < fs[j].Key() })
}
