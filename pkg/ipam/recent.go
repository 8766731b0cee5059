package ipam

import (
	"strconv"
	"sync"
	"time"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// recentWrites remembers the blocks an Allocator wrote or read from the API
// lately. An informer cache lags behind the API by a little; without this,
// the next allocation on the same node would start from a stale block, hit
// a conflict and pay one more read and write. It only saves round trips:
// every write is still guarded by the block's resourceVersion. An entry
// lives until the cache shows its version: a cache can lag by minutes on a
// loaded API server (the kwok scale run's 1,465 update conflicts came from
// entries that expired after one minute while the cache was still behind).
// recentTTL bounds how long a block is remembered when the cache never
// shows its version (the block was deleted, or the cache is broken).
const recentTTL = 10 * time.Minute

type recentWrites struct {
	mu  sync.Mutex
	ttl time.Duration
	now func() time.Time
	m   map[string]recentBlock
}

type recentBlock struct {
	b  *v1alpha1.IPAMBlock
	at time.Time
}

func newRecentWrites(ttl time.Duration, now func() time.Time) *recentWrites {
	return &recentWrites{ttl: ttl, now: now, m: map[string]recentBlock{}}
}

func (r *recentWrites) put(b *v1alpha1.IPAMBlock) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.m[b.Name]; ok && newer(old.b, b) {
		return
	}
	r.m[b.Name] = recentBlock{b: b.DeepCopy(), at: r.now()}
}

func (r *recentWrites) drop(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, name)
}

// merge returns the listed blocks, each replaced by the remembered copy when
// that one is newer, plus remembered blocks the list lacks. A remembered
// block is forgotten once the list shows it at the same or a later version
// (the cache caught up), or after the TTL.
func (r *recentWrites) merge(items []v1alpha1.IPAMBlock) []*v1alpha1.IPAMBlock {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for name, e := range r.m {
		if now.Sub(e.at) > r.ttl {
			delete(r.m, name)
		}
	}
	out := make([]*v1alpha1.IPAMBlock, 0, len(items)+len(r.m))
	seen := make(map[string]bool, len(items))
	for i := range items {
		b := &items[i]
		seen[b.Name] = true
		if e, ok := r.m[b.Name]; ok {
			if newer(e.b, b) {
				b = e.b.DeepCopy()
			} else {
				delete(r.m, b.Name)
			}
		}
		out = append(out, b)
	}
	for name, e := range r.m {
		if !seen[name] {
			out = append(out, e.b.DeepCopy())
		}
	}
	return out
}

// newer reports whether a's resourceVersion is known to be later than b's.
// Resource versions are opaque to clients, but etcd-backed ones are
// increasing integers; anything else is treated as "not newer", which costs
// at most a conflict.
func newer(a, b *v1alpha1.IPAMBlock) bool {
	x, err1 := strconv.ParseUint(a.ResourceVersion, 10, 64)
	y, err2 := strconv.ParseUint(b.ResourceVersion, 10, 64)
	return err1 == nil && err2 == nil && x > y
}
