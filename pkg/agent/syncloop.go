package agent

import (
	"context"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// syncLoop runs a level-based sync whenever something changed, coalescing
// bursts of events into one run, and retrying failures with back-off.
type syncLoop struct {
	kick chan struct{}
	// observe, when set, learns how long each run took and how it ended.
	observe func(d time.Duration, err error)
}

func newSyncLoop() *syncLoop { return &syncLoop{kick: make(chan struct{}, 1)} }

// trigger asks for a sync; never blocks.
func (l *syncLoop) trigger() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// run calls fn after each trigger (at most every 50 ms) until ctx ends; a
// failed fn is retried with exponential back-off up to 10 s, and a periodic
// resync every minute repairs what something else changed behind our back.
func (l *syncLoop) run(ctx context.Context, fn func(context.Context) error) {
	const minBackoff, maxBackoff, resync = 200 * time.Millisecond, 10 * time.Second, time.Minute
	backoff := minBackoff
	timer := time.NewTimer(resync)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		case <-timer.C:
		}
		time.Sleep(50 * time.Millisecond) // let a burst of events settle
		start := time.Now()
		err := fn(ctx)
		if l.observe != nil {
			l.observe(time.Since(start), err)
		}
		if err != nil {
			klog.ErrorS(err, "node sync failed, retrying", "in", backoff)
			timer.Reset(backoff)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		klog.V(2).InfoS("node synced", "duration", time.Since(start))
		backoff = minBackoff
		timer.Reset(resync)
	}
}

// watch calls fn on every add, update and delete of the given kinds.
func watch(ctx context.Context, c cache.Cache, fn func(), objs ...client.Object) {
	h := toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { fn() },
		UpdateFunc: func(any, any) { fn() },
		DeleteFunc: func(any) { fn() },
	}
	for _, o := range objs {
		inf, err := c.GetInformer(ctx, o)
		if err != nil {
			klog.ErrorS(err, "no informer", "kind", o.GetObjectKind())
			continue
		}
		if _, err := inf.AddEventHandler(h); err != nil {
			klog.ErrorS(err, "add event handler")
		}
	}
}
