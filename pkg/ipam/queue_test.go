package ipam

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// TestCancelledMember: a request whose context ends while it waits in the
// queue is never written; one whose batch is being written gets its
// address; a batch whose members all gave up stops writing.
func TestCancelledMember(t *testing.T) {
	tests := []struct {
		name string
		// cancel: which of p1, p2 give up, and when: "queued" (p0's write
		// in flight) or "written" (the batch's write in flight)
		cancel  []int
		when    string
		stops   bool // the batch's context ends
		wantErr map[int]error
		held    []int // pods holding an address afterwards
	}{
		{name: "given up in the queue: dropped, not written", cancel: []int{1}, when: "queued",
			wantErr: map[int]error{1: context.Canceled}, held: []int{0, 2}},
		{name: "given up while its batch is written: gets its address", cancel: []int{1}, when: "written",
			held: []int{0, 1, 2}},
		{name: "every member gave up while written: the write stops", cancel: []int{1, 2}, when: "written", stops: true,
			wantErr: map[int]error{1: context.Canceled, 2: context.Canceled}, held: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &blockWrites{}
			c := w.client(t, subnetObj("net", "10.0.0.0/24"))
			a := New(c, Options{})
			entered0, open0 := w.hold(1)
			defer open0()
			// the batch's write: stalled until gate closes, and failing
			// if its context ended meanwhile
			writing, gate := make(chan context.Context, 1), make(chan struct{})
			w.at(2, func(ctx context.Context, _ client.WithWatch, _ *v1alpha1.IPAMBlock) error {
				writing <- ctx
				<-gate
				return ctx.Err()
			})
			calls := allocs("n1", 3)
			cancels := map[int]context.CancelFunc{}
			for _, i := range tt.cancel {
				calls[i].ctx, cancels[i] = context.WithCancel(context.Background())
			}
			got := make([]chan outcome, len(calls))
			start := func(i int) {
				got[i] = make(chan outcome, 1)
				go func() { got[i] <- calls[i].do(a) }()
			}
			start(0)
			<-entered0
			start(1)
			start(2)
			waitQueued(t, a, "n1/net", 2)
			out := make([]outcome, len(calls))
			if tt.when == "queued" {
				for _, i := range tt.cancel {
					cancels[i]()
					out[i] = <-got[i] // returns while p0's write is still held
				}
				open0()
				close(gate)
			} else {
				open0()
				ctx := <-writing
				for _, i := range tt.cancel {
					cancels[i]()
				}
				if tt.stops {
					<-ctx.Done()
				}
				close(gate)
			}
			for i := range calls {
				if out[i] == (outcome{}) {
					out[i] = <-got[i]
				}
				if want := tt.wantErr[i]; !errors.Is(out[i].err, want) || (want == nil && out[i].err != nil) {
					t.Errorf("p%d: %v, want %v", i, out[i].err, want)
				}
			}
			if n := w.count(); n != 2 {
				t.Errorf("%d writes, want 2 (p0's, the batch's)", n)
			}
			blocks := listBlocks(t, c)
			if n := assertUnique(t, blocks); n != len(tt.held) {
				t.Errorf("%d addresses held, want %d", n, len(tt.held))
			}
			for _, i := range tt.held {
				if b := blocks[out[i].res.Block]; b.Spec.Allocations[out[i].res.IP.String()].Pod != calls[i].req.Pod {
					t.Errorf("p%d's %s is not recorded as its own", i, out[i].res.IP)
				}
			}
		})
	}
}

// TestWithdrawDesignatedLeader: an op made leader that gives up before it
// started its batch hands the lead to the next one; the last one out
// forgets the key.
func TestWithdrawDesignatedLeader(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	newOp := func() *op { return &op{ctx: gone, lead: make(chan struct{}), done: make(chan struct{})} }
	b, c := newOp(), newOp()
	k := &queue{waiting: []*op{b, c}, leader: b}
	q := &queues{m: map[string]*queue{"k": k}}
	close(b.lead)
	if !q.withdraw("k", k, b) || !errors.Is(b.err, context.Canceled) {
		t.Fatalf("withdraw: err %v", b.err)
	}
	select {
	case <-c.lead:
	default:
		t.Fatal("the lead was not handed on")
	}
	if !q.withdraw("k", k, c) || len(q.m) != 0 {
		t.Fatalf("the idle key is kept: %v", q.m)
	}
	if q.withdraw("k", k, c) {
		t.Fatal("an op withdrawn twice")
	}
}

// TestQueueStress: many ops on a few keys, some giving up: every op ends
// once, either run in exactly one batch or withdrawn unrun, and the
// batches of one key never overlap.
func TestQueueStress(t *testing.T) {
	var q queues
	q.max = 7
	var running [3]atomic.Int32
	var mu sync.Mutex
	ran := map[*op]int{}
	run := func(_ context.Context, batch []*op) {
		key := batch[0].res.Block
		i := int(key[0] - 'a')
		if running[i].Add(1) != 1 {
			t.Errorf("two batches of key %s at once", key)
		}
		mu.Lock()
		for _, o := range batch {
			ran[o]++
		}
		mu.Unlock()
		running[i].Add(-1)
	}
	ops := make([]*op, 600)
	var wg sync.WaitGroup
	for i := range ops {
		ctx, cancel := context.WithCancel(context.Background())
		key := string(rune('a' + i%3))
		ops[i] = &op{ctx: ctx, res: Result{Block: key}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rand.IntN(3) == 0 {
				go cancel()
			}
			q.submit(key, ops[i], run)
			cancel()
		}()
	}
	wg.Wait()
	for i, o := range ops {
		switch n := ran[o]; {
		case n > 1:
			t.Errorf("op %d ran %d times", i, n)
		case n == 0 && !errors.Is(o.err, context.Canceled):
			t.Errorf("op %d neither ran nor was withdrawn: %v", i, o.err)
		case n == 1 && o.err != nil:
			t.Errorf("op %d ran and ended with %v", i, o.err)
		}
	}
	if len(q.m) != 0 {
		t.Errorf("keys kept: %v", fmt.Sprint(q.m))
	}
}
