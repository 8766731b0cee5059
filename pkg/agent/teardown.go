package agent

import (
	"context"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// Teardown timing: each attempt of a step is bounded by teardownStepTimeout;
// failed steps are retried with a backoff from teardownBackoff doubling up
// to teardownMaxBackoff, at most teardownAttempts times (then the next
// agent start or the controller's garbage collector frees the address, and
// the veth goes with the pod's network namespace).
var (
	teardownStepTimeout = 30 * time.Second
	teardownBackoff     = 200 * time.Millisecond
	teardownMaxBackoff  = 30 * time.Second
	teardownAttempts    = 10
	// vswitchdLetGo bounds the wait for ovs-vswitchd to apply a port's
	// removal before its veth is deleted anyway (vswitchd copes with a
	// vanished device; waiting only keeps its log quiet).
	vswitchdLetGo = 2 * time.Second
)

// teardowns runs what is left of a CNI DEL once it has answered: after the
// pod's flows and OVS port are gone nothing forwards the pod's packets, so
// its veth is deleted and its address released in the background (they
// take tens of milliseconds: a kernel RCU grace period, an API write).
// One teardown runs per host interface at a time; ADD of the same
// interface waits for it (a runtime may ADD a container again after DEL).
type teardowns struct {
	mu      sync.Mutex
	pending map[string]chan struct{}
	wg      sync.WaitGroup
	// onChange reports the number pending (a metric), may be nil.
	onChange func(n int)
}

// teardownStep is one step of a teardown, retried until it succeeds; its
// time is logged under name.
type teardownStep struct {
	name, what string
	do         func(ctx context.Context) error
}

// start runs steps in order for key in the background, unless a teardown
// of key is running already (a repeated DEL), then logs "pod network torn
// down" with logKV and each step's time. ctx's values are kept, not its
// end: the request that started it has been answered.
func (t *teardowns) start(ctx context.Context, key string, logKV []any, steps ...teardownStep) {
	t.mu.Lock()
	if t.pending == nil {
		t.pending = map[string]chan struct{}{}
	}
	if _, ok := t.pending[key]; ok {
		t.mu.Unlock()
		return
	}
	done := make(chan struct{})
	t.pending[key] = done
	n := len(t.pending)
	t.wg.Add(1)
	t.mu.Unlock()
	t.report(n)
	bg := context.WithoutCancel(ctx)
	go func() {
		defer t.wg.Done()
		kv := append(logKV[:len(logKV):len(logKV)], "port", key)
		for _, s := range steps {
			start := time.Now()
			runStep(bg, key, s)
			kv = append(kv, s.name, time.Since(start))
		}
		klog.InfoS("pod network torn down", kv...)
		t.mu.Lock()
		delete(t.pending, key)
		n := len(t.pending)
		t.mu.Unlock()
		close(done)
		t.report(n)
	}()
}

// runStep runs s until it succeeds or its attempts are spent.
func runStep(ctx context.Context, key string, s teardownStep) {
	wait := teardownBackoff
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, teardownStepTimeout)
		err := s.do(sctx)
		cancel()
		if err == nil {
			return
		}
		if attempt >= teardownAttempts {
			klog.ErrorS(err, "pod teardown: giving up", "port", key, "step", s.what, "attempts", attempt)
			return
		}
		klog.InfoS("pod teardown: will retry", "port", key, "step", s.what, "attempt", attempt, "err", err, "in", wait)
		time.Sleep(wait)
		wait = min(2*wait, teardownMaxBackoff)
	}
}

// wait returns once no teardown of key is running, or ctx ends.
func (t *teardowns) wait(ctx context.Context, key string) error {
	t.mu.Lock()
	done, ok := t.pending[key]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain waits for every running teardown, or until ctx ends.
func (t *teardowns) drain(ctx context.Context) error {
	all := make(chan struct{})
	go func() { t.wg.Wait(); close(all) }()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *teardowns) report(n int) {
	if t.onChange != nil {
		t.onChange(n)
	}
}
