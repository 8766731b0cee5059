// Package flowsync keeps br-int's flows equal to the desired set: it diffs
// the desired flows against what is installed and applies the difference in
// one atomic OpenFlow bundle. After ovs-vswitchd restarts (all flows lost) or
// when the agent starts (flows of the previous run still installed), Resync
// reads the installed flows back and converges from there, so an agent
// restart does not disturb traffic.
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

// Syncer owns the desired flows, grouped by an owner key (a feature or an
// object such as a pod), and the view of what is installed.
type Syncer[F Flow] struct {
	sw Switch[F]

	mu        sync.Mutex
	desired   map[string][]F // owner -> flows
	installed map[string]F   // flow key -> flow as installed
	synced    bool           // installed reflects the bridge
}

// New returns a syncer for sw with nothing desired yet.
func New[F Flow](sw Switch[F]) *Syncer[F] {
	return &Syncer[F]{sw: sw, desired: map[string][]F{}, installed: map[string]F{}}
}

// Set replaces the desired flows of owner (nil or empty removes them). It
// does not touch the bridge; call Sync.
func (s *Syncer[F]) Set(owner string, flows []F) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(flows) == 0 {
		delete(s.desired, owner)
		return
	}
	s.desired[owner] = flows
}

// SetAndSync replaces owner's flows and applies the difference at once; the
// per-pod path uses it so a pod's flows are in OVS before CNI ADD returns.
func (s *Syncer[F]) SetAndSync(ctx context.Context, owner string, flows []F) (Stats, error) {
	s.Set(owner, flows)
	return s.Sync(ctx)
}

// Desired returns every desired flow (for the CLI and tests), sorted by key.
func (s *Syncer[F]) Desired() []F {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []F
	for _, fs := range s.desired {
		out = append(out, fs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
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
// bundle. On error the installed view is re-read on the next Sync.
func (s *Syncer[F]) Sync(ctx context.Context) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.synced {
		flows, err := s.sw.Installed(ctx)
		if err != nil {
			return Stats{}, fmt.Errorf("read installed flows: %w", err)
		}
		s.installed = make(map[string]F, len(flows))
		for _, f := range flows {
			s.installed[f.Key()] = f
		}
		s.synced = true
	}
	want := make(map[string]F, len(s.installed))
	for owner, fs := range s.desired {
		for _, f := range fs {
			k := f.Key()
			if prev, dup := want[k]; dup && prev.String() != f.String() {
				return Stats{}, fmt.Errorf("owner %s: flow %q conflicts with %q", owner, f.String(), prev.String())
			}
			want[k] = f
		}
	}
	var add, mod, del []F
	for k, f := range want {
		cur, ok := s.installed[k]
		switch {
		case !ok:
			add = append(add, f)
		case cur.String() != f.String():
			mod = append(mod, f)
		}
	}
	for k, f := range s.installed {
		if _, ok := want[k]; !ok {
			del = append(del, f)
		}
	}
	st := Stats{Added: len(add), Modified: len(mod), Deleted: len(del)}
	if st == (Stats{}) {
		return st, nil
	}
	sortFlows(add)
	sortFlows(mod)
	sortFlows(del)
	if err := s.sw.Apply(ctx, add, mod, del); err != nil {
		s.synced = false
		return Stats{}, err
	}
	s.installed = want
	return st, nil
}

func sortFlows[F Flow](fs []F) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key() < fs[j].Key() })
}
