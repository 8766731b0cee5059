package scale

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// agents simulates the IPAM path of one kubefay-agent per node: one real
// ipam.Allocator per node (its own group-commit queues), all writing
// through one counted client. They share one informer cache (SubNets,
// IPAMBlocks, Pods) instead of one each — a real agent's cache holds every
// pod too (agent.CacheOptions); here one pod informer hands each pod to
// its node's Allocator, as kubelet's CNI ADD would, one goroutine per pod.
type agents struct {
	ctx     context.Context
	allocs  map[string]*ipam.Allocator
	traffic traffic
	metrics *ipam.Metrics
	reg     *prometheus.Registry

	started  sync.Map      // pod UID -> struct{}
	inFlight chan struct{} // bounds the Allocate calls running at once
	wg       sync.WaitGroup
	done     atomic.Int64

	mu     sync.Mutex
	held   []*corev1.Pod // pods waiting for release while holding
	hold   bool
	phases []*phase
	ips    map[string]netip.Addr // namespace/pod -> address
	errs   []string
}

// phase holds the figures of the allocations started between two calls of
// startPhase.
type phase struct {
	latencies  []time.Duration
	first, end time.Time
}

// startPhase begins a new set of figures; with hold, pods are kept back
// (as if their nodes' agents were down) until release.
func (a *agents) startPhase(hold bool) *phase {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := &phase{}
	a.phases = append(a.phases, p)
	a.hold = hold
	return p
}

// release starts the allocations of every held pod at once.
func (a *agents) release() {
	a.mu.Lock()
	held := a.held
	a.held, a.hold = nil, false
	a.mu.Unlock()
	for _, p := range held {
		a.allocate(a.ctx, p)
	}
}

// heldCount is how many pods wait for release.
func (a *agents) heldCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.held)
}

func startAgents(t *testing.T, cl *cluster, s size) *agents {
	t.Helper()
	a := &agents{allocs: map[string]*ipam.Allocator{}, metrics: ipam.NewMetrics(), reg: prometheus.NewRegistry(),
		ips: map[string]netip.Addr{}, phases: []*phase{{}}, inFlight: make(chan struct{}, maxInFlight)}
	a.reg.MustRegister(a.metrics)
	scheme, _ := controller.NewScheme()
	writer, err := client.New(a.traffic.wrap(cl.cfg), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cache.New(cl.cfg, cache.Options{Scheme: scheme, ByObject: map[client.Object]cache.ByObject{
		&corev1.Pod{}: {Transform: podKey},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ipam.IndexBlocks(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.ctx = ctx
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = ca.Start(ctx)
	}()
	t.Cleanup(func() { cancel(); a.wg.Wait(); <-stopped })
	for n := 0; n < s.nodes; n++ {
		a.allocs[nodeName(n)] = ipam.New(writer, ipam.Options{Cache: ca, APIReader: writer, DefaultSubnet: "defaultnet", Metrics: a.metrics})
	}
	for _, o := range []client.Object{&v1alpha1.SubNet{}, &v1alpha1.IPAMBlock{}} {
		if _, err := ca.GetInformer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	inf, err := ca.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { a.podSeen(ctx, o) },
		UpdateFunc: func(_, o any) { a.podSeen(ctx, o) },
	}); err != nil {
		t.Fatal(err)
	}
	if !ca.WaitForCacheSync(ctx) {
		t.Fatal("agent informers did not sync")
	}
	return a
}

// maxInFlight bounds the simulated CNI ADDs running at once across all
// nodes. Each Allocator batch lists every IPAMBlock of the cluster (a real
// agent does the same in its own process); with all agents in this one
// process, 25,000 pods released at once would hold thousands of such
// lists together (16 GiB at 1000 nodes). Latency is timed from the start of
// Allocate, the burst's wall time includes the wait for a slot.
const maxInFlight = 400

// podKey keeps what the simulated agents need of a pod.
func podKey(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName}}, nil
}

// podSeen runs the CNI ADD's allocation of a pod bound to a simulated node.
func (a *agents) podSeen(ctx context.Context, o any) {
	p, ok := o.(*corev1.Pod)
	if !ok || a.allocs[p.Spec.NodeName] == nil || !strings.HasPrefix(p.Namespace, "ns-") {
		return
	}
	if _, dup := a.started.LoadOrStore(p.UID, struct{}{}); dup {
		return
	}
	a.mu.Lock()
	if a.hold {
		a.held = append(a.held, p)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.allocate(ctx, p)
}

// allocate runs one pod's allocation in its own goroutine.
func (a *agents) allocate(ctx context.Context, p *corev1.Pod) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		req := ipam.Request{Subnet: "sn-" + strings.TrimPrefix(p.Namespace, "ns-"), Node: p.Spec.NodeName,
			Namespace: p.Namespace, Pod: p.Name, PodUID: string(p.UID), ContainerID: "c-" + string(p.UID)}
		a.inFlight <- struct{}{}
		actx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		start := time.Now()
		res, err := a.allocs[p.Spec.NodeName].Allocate(actx, req)
		end := time.Now()
		<-a.inFlight
		a.mu.Lock()
		defer a.mu.Unlock()
		ph := a.phases[len(a.phases)-1]
		if ph.first.IsZero() || start.Before(ph.first) {
			ph.first = start
		}
		if end.After(ph.end) {
			ph.end = end
		}
		if err != nil {
			a.errs = append(a.errs, fmt.Sprintf("%s/%s: %v", p.Namespace, p.Name, err))
		} else {
			ph.latencies = append(ph.latencies, end.Sub(start))
			a.ips[p.Namespace+"/"+p.Name] = res.IP
		}
		a.done.Add(1)
	}()
}

// wait returns once n pods were handled (allocated or failed).
func (a *agents) wait(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last, lastChange := int64(-1), time.Now()
	err := poll(ctx, 100*time.Millisecond, func() bool {
		if d := a.done.Load(); d != last {
			last, lastChange = d, time.Now()
		} else if time.Since(lastChange) > 30*time.Second {
			t.Logf("no progress for 30 s at %d of %d pods", last, n)
			lastChange = time.Now()
		}
		return a.done.Load() >= int64(n)
	})
	if err != nil {
		t.Fatalf("%d of %d pods handled after %v", a.done.Load(), n, timeout)
	}
}

// percentile of a phase's allocation latencies (p in [0,100]).
func (a *agents) percentile(ph *phase, p float64) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return percentile(ph.latencies, p)
}

// wall is the time from a phase's first allocation start to its last end.
func (a *agents) wall(ph *phase) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return ph.end.Sub(ph.first)
}

// ipamStats are the Allocators' metrics so far.
type ipamStats struct {
	batches, batched float64            // batches, requests in them
	conflicts        map[string]float64 // by verb
}

// meanBatch is the mean batch size since before.
func (s ipamStats) meanBatch(before ipamStats) float64 {
	if s.batches == before.batches {
		return 0
	}
	return (s.batched - before.batched) / (s.batches - before.batches)
}

// stats reads the Allocators' metrics: batch sizes and the writes that
// failed with a conflict, by verb (create: two nodes claimed the same
// block; update: a block changed under its writer).
func (a *agents) stats() ipamStats {
	st := ipamStats{conflicts: map[string]float64{}}
	mfs, err := a.reg.Gather()
	if err != nil {
		return st
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "kubefay_ipam_batch_size":
				st.batches, st.batched = float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()
			case "kubefay_ipam_api_writes_total":
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["result"] == "conflict" {
					st.conflicts[labels["verb"]] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return st
}
