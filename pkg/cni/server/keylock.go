package server

import (
	"context"
	"sync"
)

// keyLock serialises work per key (container ID) without holding memory for
// idle keys.
type keyLock struct {
	mu    sync.Mutex
	locks map[string]*keyEntry
}

type keyEntry struct {
	ch   chan struct{} // holds one token while the key is locked
	refs int
}

func newKeyLock() *keyLock { return &keyLock{locks: map[string]*keyEntry{}} }

// lock waits for key; it returns an unlock func, or ctx's error.
func (k *keyLock) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	e := k.locks[key]
	if e == nil {
		e = &keyEntry{ch: make(chan struct{}, 1)}
		k.locks[key] = e
	}
	e.refs++
	k.mu.Unlock()

	release := func() {
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
		return func() { <-e.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
