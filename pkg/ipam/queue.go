package ipam

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// op is one request waiting in a queue: an allocation (req set) or a
// release of what match selects in block. Its outcome (res, freed, err) is
// set before done is closed.
type op struct {
	ctx context.Context

	req *Request
	sn  *Subnet

	block *v1alpha1.IPAMBlock
	match func(ip string, al v1alpha1.Allocation) bool

	res   Result
	freed []string
	err   error

	lead chan struct{} // closed when this op is to run the next batch
	done chan struct{}
}

// subnet names the subnet the op works in.
func (o *op) subnet() string {
	if o.req != nil {
		return o.sn.Name
	}
	return o.block.Spec.Subnet
}

// queues is the group commit of an Allocator: the ops of one key (a node's
// blocks of one subnet) wait in a queue, and the first of them (the leader)
// runs every op queued at that moment as one batch, then hands the lead to
// the oldest op that arrived meanwhile.
type queues struct {
	mu  sync.Mutex
	m   map[string]*queue
	max int // ops per batch; 0 is no limit
}

type queue struct {
	waiting []*op
	leader  *op // running or about to run a batch; nil when the key is idle
}

// submit queues o under key and returns when o has its outcome. run
// performs a batch; its context ends only when every member's context has.
// An op whose context ends while it waits is dropped, unwritten, with the
// context's error; once in a batch it waits for the batch's outcome.
func (q *queues) submit(key string, o *op, run func(context.Context, []*op)) {
	o.lead, o.done = make(chan struct{}), make(chan struct{})
	q.mu.Lock()
	if q.m == nil {
		q.m = map[string]*queue{}
	}
	k := q.m[key]
	if k == nil {
		k = &queue{}
		q.m[key] = k
	}
	k.waiting = append(k.waiting, o)
	if k.leader == nil {
		k.leader = o
		close(o.lead)
	}
	q.mu.Unlock()

	select {
	case <-o.done:
	case <-o.lead:
		q.runBatch(key, k, run)
	case <-o.ctx.Done():
		if !q.withdraw(key, k, o) {
			<-o.done
		}
	}
}

// runBatch takes the waiting ops off k (the leader is the first of them),
// runs them and hands the lead on.
func (q *queues) runBatch(key string, k *queue, run func(context.Context, []*op)) {
	q.mu.Lock()
	n := len(k.waiting)
	if q.max > 0 && n > q.max {
		n = q.max
	}
	batch := make([]*op, 0, n)
	for _, o := range k.waiting[:n] {
		if err := o.ctx.Err(); err != nil {
			o.err = err
			close(o.done)
			continue
		}
		batch = append(batch, o)
	}
	k.waiting = slices.Delete(k.waiting, 0, n)
	q.mu.Unlock()

	if len(batch) > 0 {
		ctx, stop := batchContext(batch)
		run(ctx, batch)
		stop()
		for _, o := range batch {
			close(o.done)
		}
	}

	q.mu.Lock()
	q.handoff(key, k)
	q.mu.Unlock()
}

// withdraw takes o, whose context ended, out of its queue with the
// context's error; false if o is in a batch already. q.mu must not be held.
func (q *queues) withdraw(key string, k *queue, o *op) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(k.waiting, o)
	if i < 0 {
		return false
	}
	k.waiting = slices.Delete(k.waiting, i, i+1)
	if k.leader == o {
		q.handoff(key, k)
	}
	o.err = o.ctx.Err()
	close(o.done)
	return true
}

// handoff makes the oldest waiting op of k the leader, or forgets the idle
// key. q.mu must be held.
func (q *queues) handoff(key string, k *queue) {
	if len(k.waiting) == 0 {
		k.leader = nil
		delete(q.m, key)
		return
	}
	k.leader = k.waiting[0]
	close(k.leader.lead)
}

// batchContext returns a context that ends when every op's context has
// ended (carrying the first op's values), and its release func.
func batchContext(ops []*op) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ops[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(ops)))
	stops := make([]func() bool, len(ops))
	for i, o := range ops {
		stops[i] = context.AfterFunc(o.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
