package e2e

import (
	"context"
	"net/netip"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// TestSubnetDeletedWhileAPodStarts: a SubNet is deleted right after a pod in
// it was created. Whatever wins the race, nothing is lost or left behind:
// the pod either runs with an address of the SubNet (and the SubNet waits
// for it) or is refused with a clear error; once the pod is gone the SubNet
// and every one of its IPAM blocks are gone, and the same name can be used
// again with another CIDR on the same node.
func TestSubnetDeletedWhileAPodStarts(t *testing.T) {
	disruptive(t)
	base := setup(t, "subnet-race")
	dc, err := dynamic.NewForConfig(base.c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := createSubnet(t, base.c, "10.200.40.0/24")
	e := base.annotatedNamespace("subnet-race", name)
	node := e.nodes[0].Name
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e.createPodsNoWait(netexecPod("p", node))
	if err := dc.Resource(subnetGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// either outcome is fine; a running pod must have an address of the SubNet
	time.Sleep(5 * time.Second)
	if p, err := e.c.cs.CoreV1().Pods(e.ns).Get(ctx, "p", metav1.GetOptions{}); err == nil && p.Status.PodIP != "" {
		if !netip.MustParsePrefix("10.200.40.0/24").Contains(netip.MustParseAddr(p.Status.PodIP)) {
			t.Errorf("pod runs with %s, outside the deleted SubNet", p.Status.PodIP)
		}
		t.Logf("the pod won the race: %s", p.Status.PodIP)
	} else {
		t.Logf("the deletion won the race (pod without an address: %v)", err)
	}
	if err := e.c.cs.CoreV1().Pods(e.ns).Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "SubNet "+name+" and its blocks gone", func(ctx context.Context) (bool, error) {
		if _, err := dc.Resource(subnetGVR).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, err
		}
		blocks, err := dc.Resource(ipamBlockGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, b := range blocks.Items {
			if s, _, _ := unstructured.NestedString(b.Object, "spec", "subnet"); s == name {
				return false, nil
			}
		}
		return true, nil
	})
	// the same name, another CIDR: pods of that node get addresses from it
	if err := postSubnet(dc, name, "10.200.41.0/24"); err != nil {
		t.Fatalf("re-create SubNet %s: %v", name, err)
	}
	got := e.createPods(netexecPod("again", node))
	if ip := netip.MustParseAddr(got["again"].Status.PodIP); !netip.MustParsePrefix("10.200.41.0/24").Contains(ip) {
		t.Errorf("pod in the re-created SubNet got %s", ip)
	}
}
