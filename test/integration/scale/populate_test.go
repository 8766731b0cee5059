package scale

import (
	"context"
	"fmt"
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
// t on the first error.
func createAll(t *testing.T, c client.Client, n int, mk func(i int) client.Object) time.Duration {
	t.Helper()
	start := time.Now()
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
				err := c.Create(ctx, o)
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
	return time.Since(start)
}

// populate creates everything but the pods: namespaces (with their default
// ServiceAccount: no controller-manager runs here), SubNets, Nodes and
// NetworkPolicies.
func populate(t *testing.T, c client.Client, s size) {
	t.Helper()
	d := createAll(t, c, s.subnets, func(k int) client.Object { return namespace(k) })
	d += createAll(t, c, s.subnets, func(k int) client.Object {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespaceName(k), Name: "default"}}
	})
	d += createAll(t, c, s.subnets, func(k int) client.Object { return subnet(k) })
	d += createAll(t, c, s.nodes, func(n int) client.Object { return node(n) })
	d += createAll(t, c, s.policies, func(q int) client.Object { return policy(q%s.subnets, q/s.subnets) })
	t.Logf("created %d namespaces, %d SubNets, %d nodes, %d NetworkPolicies in %v", s.subnets, s.subnets, s.nodes, s.policies, d.Round(time.Millisecond))
}
