package ipam

import (
	"context"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// blockWrites numbers the IPAMBlock writes (creates and updates) sent
// through a fake client. Each write waits latency, then runs the hook set
// for its number, which may stall or fail it.
type blockWrites struct {
	latency time.Duration

	mu    sync.Mutex
	n     int
	hooks map[int]writeHook
}

// writeHook runs before a write; c is the fake client underneath (writes
// through it are not counted). A non-nil error is returned instead of
// writing.
type writeHook func(ctx context.Context, c client.WithWatch, b *v1alpha1.IPAMBlock) error

// client returns a fake client holding objs whose block writes w counts.
func (w *blockWrites) client(t testing.TB, objs ...client.Object) client.Client {
	before := func(ctx context.Context, c client.WithWatch, o client.Object) error {
		b, ok := o.(*v1alpha1.IPAMBlock)
		if !ok {
			return nil
		}
		w.mu.Lock()
		w.n++
		h := w.hooks[w.n]
		w.mu.Unlock()
		if w.latency > 0 {
			time.Sleep(w.latency)
		}
		if h != nil {
			return h(ctx, c, b)
		}
		return nil
	}
	return fake.NewClientBuilder().WithScheme(testScheme(t)).WithIndex(&v1alpha1.IPAMBlock{}, BlockSubnetField, BlockSubnet).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			if err := before(ctx, c, o); err != nil {
				return err
			}
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			if err := before(ctx, c, o); err != nil {
				return err
			}
			return c.Update(ctx, o, opts...)
		},
	}).Build()
}

// count returns the number of writes so far.
func (w *blockWrites) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// at sets the hook of the k-th write from now (k >= 1).
func (w *blockWrites) at(k int, h writeHook) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hooks == nil {
		w.hooks = map[int]writeHook{}
	}
	w.hooks[w.n+k] = h
}

// hold stalls the k-th write from now until open is called; entered is
// closed when that write arrives. Like a real client's, the write fails if
// its context ended meanwhile.
func (w *blockWrites) hold(k int) (entered <-chan struct{}, open func()) {
	in, gate := make(chan struct{}), make(chan struct{})
	w.at(k, func(ctx context.Context, _ client.WithWatch, _ *v1alpha1.IPAMBlock) error {
		close(in)
		<-gate
		return ctx.Err()
	})
	var once sync.Once
	return in, func() { once.Do(func() { close(gate) }) }
}
