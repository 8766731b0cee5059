package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// TestIPPoolAllocation: pods with the same ip pool (annotation
// `ipPool: a,b,c`), spread over two nodes, each get one of its addresses;
// a pod beyond the pool fails with an IPPoolExhausted error naming every
// holder; once a holder's pod object is gone (force-deleted: no GC runs
// here) the waiting pod takes its address over; a terminating holder keeps
// its address until its object is gone.
func TestIPPoolAllocation(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.create(t, append(podNamespace("pool"),
		&v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "pooled"}, Spec: v1alpha1.SubNetSpec{CIDR: "10.60.0.0/16"}})...)
	const annotation = "10.60.10.1, 10.60.10.2,10.60.10.3"
	entries, err := ipam.ParseIPPool(annotation)
	if err != nil {
		t.Fatal(err)
	}
	// two agents, each reading through an informer cache as deployed
	ca := e.startCache(t)
	agents := map[string]*ipam.Allocator{
		"n1": ipam.New(e.c, ipam.Options{Cache: ca, APIReader: e.c}),
		"n2": ipam.New(e.c, ipam.Options{Cache: ca, APIReader: e.c}),
	}
	pods := map[string]*corev1.Pod{}
	allocate := func(name, node string) (ipam.Result, error) {
		p := pods[name]
		if p == nil {
			p = &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: "pool", Name: name, Annotations: map[string]string{"ipPool": annotation}},
				Spec: corev1.PodSpec{NodeName: node, AutomountServiceAccountToken: new(bool),
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			}
			if err := e.c.Create(ctx, p); err != nil {
				t.Fatal(err)
			}
			pods[name] = p
		}
		return agents[node].Allocate(ctx, ipam.Request{Subnet: "pooled", Node: node, Namespace: "pool", Pod: name,
			PodUID: string(p.UID), ContainerID: "c-" + name, Pool: entries})
	}
	mustGet := func(name, node, want string) {
		t.Helper()
		res, err := allocate(name, node)
		if err != nil {
			t.Fatalf("pod %s: %v", name, err)
		}
		if res.IP.String() != want || res.Prefix.String() != want+"/16" || res.Gateway.String() != "10.60.0.1" {
			t.Fatalf("pod %s: got %+v, want %s", name, res, want)
		}
	}
	mustGet("p0", "n1", "10.60.10.1")
	mustGet("p1", "n2", "10.60.10.2")
	mustGet("p2", "n1", "10.60.10.3")
	mustGet("p1", "n2", "10.60.10.2") // a retry of the same container

	_, err = allocate("p3", "n2")
	wantMsg := `ip pool exhausted: 10.60.10.1 held by pool/p0, 10.60.10.2 held by pool/p1, 10.60.10.3 held by pool/p2 (subnet "pooled")`
	if !ipam.IsReason(err, ipam.ReasonIPPoolExhausted) || !strings.Contains(err.Error(), wantMsg) {
		t.Fatalf("4th pod: err = %v, want %s", err, wantMsg)
	}

	// p1's pod object goes away (its node is gone, say): nobody released
	// its address, p3's next try takes it over.
	if err := e.c.Delete(ctx, pods["p1"], client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	mustGet("p3", "n2", "10.60.10.2")

	// p0 starts terminating (no kubelet here: it stays so): it keeps its
	// address (its interface still exists) until the object is gone, then
	// p4 gets it; p3 keeps its own.
	if err := e.c.Delete(ctx, pods["p0"], client.GracePeriodSeconds(30)); err != nil {
		t.Fatal(err)
	}
	terminating := &corev1.Pod{}
	if err := e.c.Get(ctx, client.ObjectKeyFromObject(pods["p0"]), terminating); err != nil || terminating.DeletionTimestamp == nil {
		t.Fatalf("p0 after a graceful delete: %v, deletionTimestamp %v", err, terminating.DeletionTimestamp)
	}
	if _, err := allocate("p4", "n1"); !ipam.IsReason(err, ipam.ReasonIPPoolExhausted) {
		t.Fatalf("p4 while p0 is terminating: %v, want %s", err, ipam.ReasonIPPoolExhausted)
	}
	if err := e.c.Delete(ctx, pods["p0"], client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	mustGet("p4", "n1", "10.60.10.1")
	mustGet("p3", "n2", "10.60.10.2")

	// one holder per address, as recorded in the blocks
	eventually(t, 10*time.Second, func() string {
		l := &v1alpha1.IPAMBlockList{}
		if err := e.c.List(ctx, l); err != nil {
			return err.Error()
		}
		got := map[string]string{}
		for _, b := range l.Items {
			for ip, al := range b.Spec.Allocations {
				got[ip] = al.Pod
			}
		}
		want := map[string]string{"10.60.10.1": "p4", "10.60.10.2": "p3", "10.60.10.3": "p2"}
		for ip, pod := range want {
			if got[ip] != pod {
				return fmt.Sprintf("allocations %v, want %v", got, want)
			}
		}
		if len(got) != len(want) {
			return fmt.Sprintf("allocations %v, want %v", got, want)
		}
		return ""
	})
}
