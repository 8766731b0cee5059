package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// count reads kubefay_ipam_api_writes_total{verb, result}.
func (m *Metrics) count(verb, result string) float64 {
	var d dto.Metric
	if err := m.writes.WithLabelValues(verb, result).Write(&d); err != nil {
		panic(err)
	}
	return d.GetCounter().GetValue()
}

// outcome is what one call of a burst got.
type outcome struct {
	res Result
	err error
}

// call is one request of a burst: an allocation of req, or, when release
// is set, the release of req's container interface.
type call struct {
	req     Request
	release bool
	ctx     context.Context
}

func (c call) do(a *Allocator) outcome {
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if c.release {
		return outcome{err: a.Release(ctx, c.req.ContainerID, c.req.Interface)}
	}
	res, err := a.Allocate(ctx, c.req)
	return outcome{res, err}
}

func allocs(node string, n int) []call {
	calls := make([]call, n)
	for i := range calls {
		calls[i] = call{req: req(node, fmt.Sprintf("p%d", i))}
	}
	return calls
}

// burst runs calls at once, all on node n1 in subnet "net". The first
// call's write is held until every other call waits in the queue behind
// it, so that they make one batch.
func burst(t *testing.T, a *Allocator, w *blockWrites, calls []call) []outcome {
	t.Helper()
	entered, open := w.hold(1)
	defer open()
	out := make([]outcome, len(calls))
	var wg sync.WaitGroup
	start := func(i int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = calls[i].do(a)
		}()
	}
	start(0)
	<-entered
	for i := 1; i < len(calls); i++ {
		start(i)
	}
	waitQueued(t, a, "n1/net", len(calls)-1)
	open()
	wg.Wait()
	return out
}

// waitQueued waits until n requests wait in queue key.
func waitQueued(t *testing.T, a *Allocator, key string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		a.queues.mu.Lock()
		got := 0
		if k := a.queues.m[key]; k != nil {
			got = len(k.waiting)
		}
		a.queues.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests wait in queue %s, want %d", got, key, n)
		}
	}
}

// assertRecorded checks that every allocation that succeeded is in its
// block exactly as asked for, that no key holds two addresses, and that
// the blocks hold nothing else but extra allocations; it returns the
// number of failed calls.
func assertRecorded(t *testing.T, c client.Client, calls []call, out []outcome, extra int) (failed int) {
	t.Helper()
	blocks := listBlocks(t, c)
	n := assertUnique(t, blocks)
	held := 0
	for i, o := range out {
		r := calls[i].req
		if o.err != nil {
			failed++
			continue
		}
		if calls[i].release {
			continue
		}
		held++
		al, ok := blocks[o.res.Block].Spec.Allocations[o.res.IP.String()]
		want := v1alpha1.Allocation{Namespace: r.Namespace, Pod: r.Pod, PodUID: r.PodUID, ContainerID: r.ContainerID,
			Interface: r.Interface, Node: r.Node, Static: r.StaticIP.IsValid()}
		created := al.Created
		al.Created = metav1.Time{}
		if !ok || al != want || created.IsZero() {
			t.Errorf("%s got %s in %s, recorded there: %+v (found %v), want %+v", r.Pod, o.res.IP, o.res.Block, al, ok, want)
		}
	}
	if n != held+extra {
		t.Errorf("blocks hold %d allocations, the calls got %d (and %d were there)", n, held, extra)
	}
	return failed
}

func TestGroupCommit(t *testing.T) {
	tests := []struct {
		name     string
		subnet   *v1alpha1.SubNet
		calls    []call
		maxBatch int
		// writes: block writes; failed: calls that fail (SubnetFull);
		// blocks: blocks of n1 afterwards, full: how many of them are full
		writes, failed, blocks, full int
	}{
		{name: "30 pods: one write for the first, one for the 29 queued behind it",
			subnet: subnetObj("net", "10.0.0.0/24"), calls: allocs("n1", 30), writes: 2, blocks: 1},
		{name: "100 pods: the batch fills the first block, then claims a second one",
			subnet: subnetObj("net", "10.0.0.0/24"), calls: allocs("n1", 100), writes: 3, blocks: 2, full: 1},
		{name: "room for 5 addresses: 5 pods get one, the batch's others are told the subnet is full",
			subnet: subnetObj("net", "10.0.0.0/29", func(s *v1alpha1.SubNetSpec) { s.BlockSize = 30 }),
			calls:  allocs("n1", 8), writes: 3, failed: 3, blocks: 2, full: 2},
		{name: "MaxBatch 1: one write per pod, as before group commit",
			subnet: subnetObj("net", "10.0.0.0/24"), calls: allocs("n1", 10), maxBatch: 1, writes: 10, blocks: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &blockWrites{}
			c := w.client(t, tt.subnet)
			m := NewMetrics()
			a := New(c, Options{MaxBatch: tt.maxBatch, Metrics: m})
			out := burst(t, a, w, tt.calls)
			if failed := assertRecorded(t, c, tt.calls, out, 0); failed != tt.failed {
				t.Errorf("%d calls failed, want %d", failed, tt.failed)
			}
			for i, o := range out {
				if o.err != nil && !IsReason(o.err, ReasonSubnetFull) {
					t.Errorf("call %d: %v, want success or %s", i, o.err, ReasonSubnetFull)
				}
			}
			if got := w.count(); got != tt.writes {
				t.Errorf("%d writes, want %d", got, tt.writes)
			}
			if got := int(m.count("create", "ok") + m.count("update", "ok")); got != tt.writes {
				t.Errorf("kubefay_ipam_api_writes_total counts %d, want %d", got, tt.writes)
			}
			sn := mustSubnet(t, tt.subnet)
			blocks, full := 0, 0
			for _, b := range listBlocks(t, c) {
				blocks++
				if p, err := PoolOf(sn, &b); err != nil || p.Free() == 0 {
					full++
				}
			}
			if blocks != tt.blocks || full != tt.full {
				t.Errorf("%d blocks, %d full; want %d, %d full", blocks, full, tt.blocks, tt.full)
			}
		})
	}
}

// TestGroupCommitConflict: another agent writes the block between the
// batch's read and its write; the batch reads the block again and writes
// once more, around the other agent's address.
func TestGroupCommitConflict(t *testing.T) {
	w := &blockWrites{}
	c := w.client(t, subnetObj("net", "10.0.0.0/24"))
	m := NewMetrics()
	a := New(c, Options{Metrics: m})
	first, err := a.Allocate(context.Background(), req("n1", "first"))
	if err != nil {
		t.Fatal(err)
	}
	// the other agent takes one of the addresses the batch is writing
	var foreign string
	w.at(2, func(ctx context.Context, c client.WithWatch, mine *v1alpha1.IPAMBlock) error {
		b := &v1alpha1.IPAMBlock{}
		if err := c.Get(ctx, client.ObjectKey{Name: first.Block}, b); err != nil {
			return err
		}
		for ip := range mine.Spec.Allocations {
			if _, ok := b.Spec.Allocations[ip]; !ok {
				foreign = ip
				break
			}
		}
		setAllocation(b, foreign, v1alpha1.Allocation{ContainerID: "c-other", Interface: "eth0", Node: "n2"})
		return c.Update(ctx, b)
	})
	calls := allocs("n1", 20)
	out := burst(t, a, w, calls)
	if failed := assertRecorded(t, c, calls, out, 2); failed != 0 {
		t.Errorf("%d calls failed", failed)
	}
	if got := w.count(); got != 4 {
		t.Errorf("%d writes, want 4 (first, held, the batch's conflicting one, its retry)", got)
	}
	if got := m.count("update", "conflict"); got != 1 {
		t.Errorf("%v conflicts counted, want 1", got)
	}
	if al := listBlocks(t, c)[first.Block].Spec.Allocations[foreign]; al.ContainerID != "c-other" {
		t.Errorf("the other agent's %s now holds %+v", foreign, al)
	}
}

// TestGroupCommitPartialFailure: a failure fails the members it concerns,
// not the batch: a write that fails (the claim of a second block) and a
// static IP held by a live pod. (An invalid request fails before it
// joins a queue.)
func TestGroupCommitPartialFailure(t *testing.T) {
	w := &blockWrites{}
	c := w.client(t, subnetObj("net", "10.0.0.0/24"), podObj("holder"))
	a := New(c, Options{})
	held, err := a.Allocate(context.Background(), req("n1", "holder"))
	if err != nil {
		t.Fatal(err)
	}
	// writes from now: p0's (held by burst), the batch's update of the
	// first block, its claim of a second one
	w.at(3, func(context.Context, client.WithWatch, *v1alpha1.IPAMBlock) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "ipamblocks"}, "x", errors.New("quota"))
	})
	calls := allocs("n1", 100)
	calls[1].req.StaticIP = held.IP
	out := burst(t, a, w, append(calls, call{req: req("n1", "holder")}))
	var ok, forbidden int
	for i, o := range out {
		switch {
		case i == 1:
			if !IsReason(o.err, ReasonIPInUse) {
				t.Errorf("static IP held by another pod: %v, want %s", o.err, ReasonIPInUse)
			}
		case o.err == nil:
			ok++
		case apierrors.IsForbidden(o.err) && strings.Contains(o.err.Error(), "claiming IPAM block"):
			forbidden++
		default:
			t.Errorf("call %d: %v", i, o.err)
		}
	}
	blocks := listBlocks(t, c)
	b := blocks[held.Block]
	if p, err := PoolOf(mustSubnet(t, subnetObj("net", "10.0.0.0/24")), &b); len(blocks) != 1 || err != nil || p.Free() != 0 {
		t.Errorf("%d blocks, want the first one full and the second not claimed", len(blocks))
	}
	if forbidden == 0 || ok+forbidden != 100 {
		t.Errorf("%d calls succeeded, %d failed with the claim; want the latter > 0 and 100 in all", ok, forbidden)
	}
	assertRecorded(t, c, append(calls, call{req: req("n1", "holder")}), out, 0)
}

// TestBatchMembers: what a batch may hold besides new pods, each time
// behind a first call whose write is held: releases (with allocations in
// the same write), repeated keys, static IPs and ip pools.
func TestBatchMembers(t *testing.T) {
	held := []string{"h0", "h1", "h2", "h3"} // allocated before, pods alive
	rel := func(pod string) call { return call{req: req("n1", pod), release: true} }
	tests := []struct {
		name  string
		calls func(first Result) []call
		// writes: the burst's block writes; left: allocations afterwards
		writes, left int
		check        func(t *testing.T, first Result, out []outcome)
	}{
		{name: "releases and allocations: one write",
			calls: func(Result) []call {
				return append([]call{rel("h0"), rel("h1"), rel("h2")}, allocs("n1", 5)...)
			},
			writes: 2, left: 6},
		{name: "releases only: one write",
			calls:  func(Result) []call { return []call{rel("h0"), rel("h1"), rel("h2"), rel("h3")} },
			writes: 2, left: 0},
		{name: "a key asked twice, and once more after its write: one address each",
			calls: func(Result) []call {
				return []call{{req: req("n1", "a")}, {req: req("n1", "b")}, {req: req("n1", "b")}, {req: req("n1", "a")}, {req: req("n1", "h0")}}
			},
			writes: 2, left: 6,
			check: func(t *testing.T, first Result, out []outcome) {
				if out[0].res != out[3].res || out[1].res != out[2].res || out[4].res.IP != first.IP {
					t.Errorf("a repeated key got another address: %+v", out)
				}
			}},
		{name: "static IPs and pools next to dynamic pods: no address twice",
			calls: func(first Result) []call {
				calls := allocs("n1", 10)
				ip := first.IP
				for i := 0; i < 6; i++ {
					ip = ip.Next() // the addresses after h0..h3's, which the dynamic pods would take next
				}
				static := func(r *Request) { r.StaticIP = ip }
				pool := func(r *Request) { r.Pool = []netip.Addr{first.IP, ip.Next()} }
				return append(calls, call{req: req("n1", "s", static)}, call{req: req("n1", "p", pool)})
			},
			writes: 4, left: 16,
			check: func(t *testing.T, first Result, out []outcome) {
				s, p := out[len(out)-2].res.IP, out[len(out)-1].res.IP
				if s != p.Prev() || !first.IP.Less(s) {
					t.Errorf("static IP got %s, pool got %s", s, p)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &blockWrites{}
			objs := []client.Object{subnetObj("net", "10.0.0.0/24")}
			for _, p := range held {
				objs = append(objs, podObj(p))
			}
			c := w.client(t, objs...)
			a := New(c, Options{})
			var first Result
			for i, p := range held {
				res, err := a.Allocate(context.Background(), req("n1", p))
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = res
				}
			}
			before := w.count()
			calls := tt.calls(first)
			out := burst(t, a, w, calls)
			for i, o := range out {
				if o.err != nil {
					t.Errorf("call %d (%s): %v", i, calls[i].req.Pod, o.err)
				}
			}
			if got := w.count() - before; got != tt.writes {
				t.Errorf("%d writes, want %d", got, tt.writes)
			}
			if n := assertUnique(t, listBlocks(t, c)); n != tt.left {
				t.Errorf("%d allocations left, want %d", n, tt.left)
			}
			blocks := listBlocks(t, c)
			for i, o := range out {
				r := calls[i].req
				if calls[i].release {
					for _, b := range blocks {
						if ip, ok := findByKey(&b, r.ContainerID, r.Interface); ok {
							t.Errorf("%s released, still holds %s", r.Pod, ip)
						}
					}
					continue
				}
				al := blocks[o.res.Block].Spec.Allocations[o.res.IP.String()]
				if al.ContainerID != r.ContainerID || al.Static != (r.StaticIP.IsValid() || r.Pool != nil) {
					t.Errorf("%s got %s, recorded as %+v", r.Pod, o.res.IP, al)
				}
			}
			if tt.check != nil {
				tt.check(t, first, out)
			}
		})
	}
}

// TestBurstUnsynchronised: pods of one node allocating and releasing at
// once, without any help to form batches: never an address twice, never
// more than one write per request.
func TestBurstUnsynchronised(t *testing.T) {
	w := &blockWrites{}
	c := w.client(t, subnetObj("net", "10.0.0.0/24"))
	a := New(c, Options{})
	const n = 100
	calls := allocs("n1", n)
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = calls[i].do(a)
			if i%4 == 0 && out[i].err == nil { // deleted right away
				out[i] = call{req: calls[i].req, release: true}.do(a)
			}
		}()
	}
	wg.Wait()
	for i, o := range out {
		if o.err != nil {
			t.Errorf("p%d: %v", i, o.err)
		}
	}
	if got := w.count(); got > n+n/4 {
		t.Errorf("%d writes for %d requests", got, n+n/4)
	}
	if got := assertUnique(t, listBlocks(t, c)); got != n-n/4 {
		t.Errorf("%d allocations, want %d", got, n-n/4)
	}
}
