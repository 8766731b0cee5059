package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// eventRepeatBurst and eventRepeatPeriod rate-limit repeats of one
// (pod, reason, message): kubelet retries a failing sandbox with a backoff
// and every retry reports the same failure. The first eventRepeatBurst go
// out at once (each raising the count of the one Event), then one per
// eventRepeatPeriod.
const (
	eventRepeatBurst  = 10
	eventRepeatPeriod = time.Minute
)

// newEventRecorder returns a function that records a Warning Event on a pod
// (what `kubectl describe pod` shows next to kubelet's sandbox error), or on
// a SubNet when namespace is empty. It
// never blocks the caller: events are written in the background through
// client-go's event broadcaster, whose correlator folds a repeated event
// into one Event object with a count (shown as "x5"), and rate-limits
// repeats per pod, reason and message (see eventRepeatBurst). It stops when
// ctx ends.
func newEventRecorder(ctx context.Context, c client.Client, node string) func(namespace, name, reason, message string) {
	b := record.NewBroadcaster(record.WithContext(ctx), record.WithCorrelatorOptions(record.CorrelatorOptions{
		BurstSize:   eventRepeatBurst,
		QPS:         float32(1 / eventRepeatPeriod.Seconds()),
		SpamKeyFunc: eventRepeatKey,
	}))
	b.StartRecordingToSink(eventSink{ctx: ctx, c: c})
	rec := b.NewRecorder(nil, corev1.EventSource{Component: "kubefay-agent", Host: node})
	return func(namespace, name, reason, message string) {
		ref := &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: namespace, Name: name}
		if namespace == "" { // cluster-scoped: a SubNet
			ref = &corev1.ObjectReference{Kind: "SubNet", APIVersion: v1alpha1.SchemeGroupVersion.String(), Name: name}
		}
		rec.Event(ref, corev1.EventTypeWarning, reason, message)
	}
}

// eventRepeatKey: the rate limit applies per pod, reason and message, so
// that a new failure of a pod is reported even after many of another.
func eventRepeatKey(e *corev1.Event) string {
	o := e.InvolvedObject
	return e.Source.Component + "\x00" + e.Source.Host + "\x00" + o.Kind + "\x00" + o.Namespace + "\x00" + o.Name + "\x00" +
		string(o.UID) + "\x00" + e.Type + "\x00" + e.Reason + "\x00" + e.Message
}

// eventSink writes the broadcaster's events through a controller-runtime
// client.
type eventSink struct {
	ctx context.Context
	c   client.Client
}

func (s eventSink) call(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	return fn(ctx)
}

// Create creates the event.
func (s eventSink) Create(ev *corev1.Event) (*corev1.Event, error) {
	out := ev.DeepCopy()
	return out, s.call(func(ctx context.Context) error { return s.c.Create(ctx, out) })
}

// Update replaces the event.
func (s eventSink) Update(ev *corev1.Event) (*corev1.Event, error) {
	out := ev.DeepCopy()
	return out, s.call(func(ctx context.Context) error { return s.c.Update(ctx, out) })
}

// Patch applies the correlator's strategic merge patch (count,
// lastTimestamp, message) to the event already written.
func (s eventSink) Patch(old *corev1.Event, data []byte) (*corev1.Event, error) {
	out := old.DeepCopy()
	return out, s.call(func(ctx context.Context) error {
		return s.c.Patch(ctx, out, client.RawPatch(types.StrategicMergePatchType, data))
	})
}
