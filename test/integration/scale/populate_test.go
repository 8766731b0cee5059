package scale

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// creators is how many goroutines create objects at once.
const creators = 32

// createAll creates n objects made by mk with creators goroutines; it fails
// t on the first error. It returns the wall time and each create's latency.
func createAll(t *testing.T, c client.Client, n int, mk func(i int) client.Object) (time.Duration, []time.Duration) {
	t.Helper()
	start := time.Now()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, creators)
	for w := 0; w < creators; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				o := mk(i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				t0 := time.Now()
				err := c.Create(ctx, o)
				lat[i] = time.Since(t0)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("create %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
					next.Store(int64(n)) // stop everyone
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return time.Since(start), lat
}

// populate creates everything but the pods: namespaces (with their default
// ServiceAccount: no controller-manager runs here), SubNets, Nodes and
// NetworkPolicies.
func populate(t *testing.T, c client.Client, s size) {
	t.Helper()
	var d time.Duration
	for _, step := range []struct {
		n  int
		mk func(int) client.Object
	}{
		{s.subnets, func(k int) client.Object { return namespace(k) }},
		{s.subnets, func(k int) client.Object {
			return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespaceName(k), Name: "default"}}
		}},
		{s.subnets, func(k int) client.Object { return subnet(k) }},
		{s.nodes, func(n int) client.Object { return node(n) }},
		{s.policies, func(q int) client.Object { return policy(q%s.subnets, q/s.subnets) }},
	} {
		w, _ := createAll(t, c, step.n, step.mk)
		d += w
	}
	t.Logf("created %d namespaces, %d SubNets, %d nodes, %d NetworkPolicies in %v", s.subnets, s.subnets, s.nodes, s.policies, d.Round(time.Millisecond))
}

// percentile of latencies (p in [0,100]).
func percentile(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	l = append([]time.Duration(nil), l...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l[min(len(l)-1, int(float64(len(l))*p/100))]
}
