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

// claim is one owner's wish for the flow under a key.
type claim[F Flow] struct {
	owner string
	flow  F
}

// Syncer owns the desired flows, grouped by an owner key (a feature or an
// object such as a pod), and the view of what is installed.
type Syncer[F Flow] struct {
	sw Switch[F]

	mu        sync.Mutex
	desired   map[string][]F        // owner -> flows
	byKey     map[string][]claim[F] // flow key -> owners wanting it (normally one)
	dirty     map[string]struct{}   // keys whose desired state changed since the last Sync
	installed map[string]F          // flow key -> flow as installed
	synced    bool                  // installed reflects the bridge
	hold      bool                  // keep installed flows nobody claims (see HoldDeletes)

	// OnConflict, when set, is told of a key two owners want different
	// flows under (the later claim is installed). Set it before use.
	OnConflict func(key, loser, winner string)
	held       map[string]struct{} // keys not deleted because of hold
}

// New returns a syncer for sw with nothing desired yet.
func New[F Flow](sw Switch[F]) *Syncer[F] {
	return &Syncer[F]{sw: sw, desired: map[string][]F{}, byKey: map[string][]claim[F]{},
		dirty: map[string]struct{}{}, installed: map[string]F{}, held: map[string]struct{}{}}
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.desired[owner] {
		k := f.Key()
		s.byKey[k] = dropOwner(s.byKey[k], owner)
		if len(s.byKey[k]) == 0 {
			delete(s.byKey, k)
		}
		s.dirty[k] = struct{}{}
	}
	if len(flows) == 0 {
		delete(s.desired, owner)
		return
	}
	s.desired[owner] = flows
	for _, f := range flows {
		k := f.Key()
		s.byKey[k] = append(s.byKey[k], claim[F]{owner, f})
		s.dirty[k] = struct{}{}
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

// Desired returns every desired flow (for tests), sorted by key.
func (s *Syncer[F]) Desired() []F {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]F, 0, len(s.byKey))
	for _, cs := range s.byKey {
		out = append(out, cs[0].flow)
	}
	sortFlows(out)
	return out
}

// Invalidate forgets the installed view; the next Sync reads the bridge
// first. Call it when the OpenFlow connection is (re)established.
func (s *Syncer[F]) Invalidate() {
	s.mu.Lock()
	s.synced = false
	s.mu.Unlock()
}

// Sync applies the difference between desired and installed flows in one
// bundle: of the dirty keys only, or of everything after Invalidate or a
// failure (then the installed view is re-read from the bridge first).
func (s *Syncer[F]) Sync(ctx context.Context) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.dirty
	if !s.synced {
		flows, err := s.sw.Installed(ctx)
		if err != nil {
			return Stats{}, fmt.Errorf("read installed flows: %w", err)
		}
		s.installed = make(map[string]F, len(flows))
		keys = make(map[string]struct{}, len(flows)+len(s.byKey))
		for _, f := range flows {
			s.installed[f.Key()] = f
			keys[f.Key()] = struct{}{}
		}
		for k := range s.byKey {
			keys[k] = struct{}{}
		}
	}
	var add, mod, del []F
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
		f := cs[len(cs)-1].flow
		for _, c := range cs[:len(cs)-1] {
			if c.flow.String() != f.String() && s.OnConflict != nil {
				s.OnConflict(k, c.owner, cs[len(cs)-1].owner)
			}
		}
		switch {
		case !inst:
			add = append(add, f)
		case cur.String() != f.String():
			mod = append(mod, f)
		}
	}
	st := Stats{Added: len(add), Modified: len(mod), Deleted: len(del)}
	if st != (Stats{}) {
		sortFlows(add)
		sortFlows(mod)
		sortFlows(del)
		if err := s.sw.Apply(ctx, add, mod, del); err != nil {
			s.synced = false
			return Stats{}, err
		}
		for _, f := range append(add, mod...) {
			s.installed[f.Key()] = f
		}
		for _, f := range del {
			delete(s.installed, f.Key())
		}
	}
	s.synced = true
	s.dirty = map[string]struct{}{}
	return st, nil
}

func sortFlows[F Flow](fs []F) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key() < fs[j].Key() })
}
