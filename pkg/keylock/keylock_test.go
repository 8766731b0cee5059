package keylock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLock: one holder per key, other keys free, a waiter gives up with
// its context, and nothing is kept once every key is unlocked.
func TestLock(t *testing.T) {
	var l Locks
	ctx := context.Background()
	unlockA, err := l.Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := l.Lock(ctx, "b")
	if err != nil {
		t.Fatalf("another key must not wait: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a waiter on a held key: %v, want its context's error", err)
	}
	got := make(chan func(), 1)
	go func() {
		u, _ := l.Lock(ctx, "a")
		got <- u
	}()
	unlockA()
	(<-got)()
	unlockB()
	if n := len(l.locks); n != 0 {
		t.Errorf("%d keys kept after every unlock", n)
	}
}
