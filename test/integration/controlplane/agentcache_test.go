package controlplane

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent"
)

// watchCounter tracks, per resource (the last element of the URL path), the
// watch streams open through it and the most ever open at once. A watch
// that ends (a CRD's first watch, refused while its storage starts, or a
// server timeout) is followed by a new one; two at once are two watches.
type watchCounter struct {
	mu        sync.Mutex
	open, max map[string]int
	inner     http.RoundTripper
}

func (w *watchCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Get("watch") != "true" {
		return w.inner.RoundTrip(r)
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	res := parts[len(parts)-1]
	w.add(res, 1)
	resp, err := w.inner.RoundTrip(r)
	if err != nil {
		w.add(res, -1)
		return resp, err
	}
	resp.Body = &closeHook{ReadCloser: resp.Body, onClose: func() { w.add(res, -1) }}
	return resp, nil
}

func (w *watchCounter) add(res string, d int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.open[res] += d
	w.max[res] = max(w.max[res], w.open[res])
}

func (w *watchCounter) snapshot() (open, most map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.open), maps.Clone(w.max)
}

// closeHook calls onClose once, on the first Close.
type closeHook struct {
	io.ReadCloser
	once    sync.Once
	onClose func()
}

func (c *closeHook) Close() error {
	c.once.Do(c.onClose)
	return c.ReadCloser.Close()
}

// TestAgentCache: the agent's one informer cache keeps one watch open per
// resource, however many of its parts ask for an informer, and holds pods
// slimmed but with what the CNI path reads (kubefay's address annotations,
// the controller reference).
func TestAgentCache(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e.create(t, podNamespace("apps")...)
	e.create(t, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web-0",
			Annotations: map[string]string{"kubefay.io/ip-pool": "10.192.9.1,10.192.9.2", "other": "dropped"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web",
				UID: "0b0e5cdd-3c4a-4c52-9b8e-1c1d2a3b4c5d", Controller: ptr.To(true)}}},
		Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	})

	counter := &watchCounter{open: map[string]int{}, max: map[string]int{}}
	cfg := rest.CopyConfig(e.cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.inner = rt; return counter })
	c, err := cache.New(cfg, agent.CacheOptions(agent.Scheme()))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	// the datapath's informers, then policy's (Pod, Namespace, NetworkPolicy) again
	kinds := append(agent.WatchedKinds(), agent.WatchedKinds()[3:]...)
	for _, k := range kinds {
		if _, err := c.GetInformer(ctx, k); err != nil {
			t.Fatalf("informer %T: %v", k, err)
		}
	}
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}

	var p corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: "apps", Name: "web-0"}, &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Annotations; len(got) != 1 || got["kubefay.io/ip-pool"] != "10.192.9.1,10.192.9.2" {
		t.Errorf("cached annotations %v, want only kubefay's", got)
	}
	if ref := metav1.GetControllerOf(&p); ref == nil || ref.Name != "web" {
		t.Errorf("cached controller reference %v, want StatefulSet web", p.OwnerReferences)
	}
	if p.Spec.NodeName != "node-a" || len(p.Spec.Containers) != 0 {
		t.Errorf("cached spec %+v, want the node only (no container has ports)", p.Spec)
	}

	want := []string{"subnets", "ipamblocks", "nodes", "pods", "namespaces", "networkpolicies"}
	// each reflector opens its watch right after its list: wait for all
	open, most := counter.snapshot()
	for !allOne(open, want) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		open, most = counter.snapshot()
	}
	for _, r := range want {
		if open[r] != 1 || most[r] != 1 {
			t.Errorf("%s: %d watches open, at most %d at once; want 1 (all open: %v, most: %v)", r, open[r], most[r], open, most)
		}
	}
}

// allOne reports whether every resource of rs has one watch open.
func allOne(open map[string]int, rs []string) bool {
	for _, r := range rs {
		if open[r] != 1 {
			return false
		}
	}
	return true
}
