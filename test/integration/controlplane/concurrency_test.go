package controlplane

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// TestConcurrentAgents: 10 simulated agents (each with its own informer
// cache and Allocator, as on 10 nodes), 3 concurrent CNI ADDs each,
// allocate 10,000 addresses from one subnet at once: no address is handed
// out twice, every pod gets exactly one, and a repeated ADD returns the
// same address.
func TestConcurrentAgents(t *testing.T) {
	const agents, workersPerAgent, total = 10, 3, 10000
	e := setup(t)
	ctx := context.Background()
	sn := &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "defaultnet"}, Spec: v1alpha1.SubNetSpec{CIDR: "10.192.0.0/16"}}
	if err := e.c.Create(ctx, sn); err != nil {
		t.Fatal(err)
	}
	counter := &writeCounter{Client: e.c}
	allocators := make([]*ipam.Allocator, agents)
	for i := range allocators {
		ca := e.startCache(t)
		if !ca.WaitForCacheSync(ctx) {
			t.Fatal("cache did not sync")
		}
		// Start the informers before the clock runs.
		if err := ca.List(ctx, &v1alpha1.IPAMBlockList{}); err != nil {
			t.Fatal(err)
		}
		if err := ca.Get(ctx, client.ObjectKey{Name: "defaultnet"}, &v1alpha1.SubNet{}); err != nil {
			t.Fatal(err)
		}
		allocators[i] = ipam.New(counter, ipam.Options{Cache: ca, APIReader: counter, DefaultSubnet: "defaultnet", MaxAttempts: 50})
	}

	type got struct {
		pod string
		ip  netip.Addr
	}
	results := make(chan got, total)
	errs := make(chan error, total)
	start := time.Now()
	var wg sync.WaitGroup
	for a := 0; a < agents; a++ {
		for w := 0; w < workersPerAgent; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := fmt.Sprintf("node-%d", a)
				for i := w; i < total/agents; i += workersPerAgent {
					pod := fmt.Sprintf("pod-%d-%d", a, i)
					res, err := allocators[a].Allocate(ctx, ipam.Request{Node: node, Namespace: "ns", Pod: pod, ContainerID: "c-" + pod, Interface: "eth0"})
					if err != nil {
						errs <- fmt.Errorf("%s: %w", pod, err)
						continue
					}
					results <- got{pod, res.IP}
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(results)
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	owner := map[netip.Addr]string{}
	dups := 0
	for r := range results {
		if prev, ok := owner[r.ip]; ok {
			dups++
			t.Errorf("%s handed to %s and %s", r.ip, prev, r.pod)
		}
		owner[r.ip] = r.pod
	}
	t.Logf("%d allocations by %d agents x %d workers in %v (%.0f/s); %d duplicates; API writes %d (%.3f per pod), conflicts %d, create-AlreadyExists %d, direct API reads %d",
		len(owner), agents, workersPerAgent, elapsed.Round(time.Millisecond), float64(len(owner))/elapsed.Seconds(), dups,
		counter.writes.Load(), float64(counter.writes.Load())/float64(len(owner)), counter.conflicts.Load(), counter.exists.Load(), counter.reads.Load())
	if len(owner) != total {
		t.Fatalf("%d distinct addresses, want %d", len(owner), total)
	}

	// What the API holds agrees: blocks do not overlap, every pod once.
	blocks := &v1alpha1.IPAMBlockList{}
	if err := e.c.List(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	stored := map[string]string{}
	perNode := map[string]int{}
	for _, b := range blocks.Items {
		p := netip.MustParsePrefix(b.Spec.CIDR)
		for _, q := range prefixes {
			if p.Overlaps(q) {
				t.Errorf("blocks %s and %s overlap", p, q)
			}
		}
		prefixes = append(prefixes, p)
		perNode[b.Spec.Node]++
		for ip, al := range b.Spec.Allocations {
			if prev, ok := stored[al.Pod]; ok {
				t.Errorf("pod %s holds %s and %s", al.Pod, prev, ip)
			}
			stored[al.Pod] = ip
			if owner[netip.MustParseAddr(ip)] != al.Pod {
				t.Errorf("%s stored for %s, returned to %s", ip, al.Pod, owner[netip.MustParseAddr(ip)])
			}
		}
	}
	if len(stored) != total {
		t.Errorf("%d allocations stored, want %d", len(stored), total)
	}
	t.Logf("%d blocks (per node: %v)", len(blocks.Items), perNode)

	// A repeated ADD (kubelet retry) gets the same address.
	for _, pod := range []string{"pod-0-0", "pod-9-999", "pod-5-500"} {
		res, err := allocators[3].Allocate(ctx, ipam.Request{Node: "node-3", Namespace: "ns", Pod: pod, ContainerID: "c-" + pod, Interface: "eth0"})
		if err != nil || stored[pod] != res.IP.String() {
			t.Errorf("repeated ADD of %s: %v %v, want %s", pod, res.IP, err, stored[pod])
		}
	}
}
