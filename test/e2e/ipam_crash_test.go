package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

var ipamBlockGVR = schema.GroupVersionResource{Group: "kubefay.kubefay.github.com", Version: "v1alpha1", Resource: "ipamblocks"}

// ipLeakWindow is the promise: an address held by no live pod is
// free again within 60 s.
const ipLeakWindow = 60 * time.Second

// TestAgentKilledDuringPodCreation: the agent of a node is killed with
// SIGKILL while 20 pods are being created there. kubelet retries, the agent
// comes back; then every pod runs with a unique address, the IPAM holds
// exactly the pods' addresses (what the killed ADDs had allocated is
// released) within 60 s, and nothing of the namespace is held 60 s after
// the pods are deleted.
func TestAgentKilledDuringPodCreation(t *testing.T) {
	disruptive(t)
	e := setup(t, "agent-kill")
	victim := e.nodes[0].Name
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var names []string
	for i := range 20 {
		p := basePod(fmt.Sprintf("p%02d", i), victim, agnhostContainer("c", "pause"))
		p.Namespace = e.ns
		if _, err := e.c.cs.CoreV1().Pods(e.ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		names = append(names, p.Name)
	}
	// kill while sandboxes are being wired: as soon as the first pod has an address
	eventually(t, time.Minute, "a first pod with an IP", func(ctx context.Context) (bool, error) {
		list, err := e.c.cs.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range list.Items {
			if p.Status.PodIP != "" {
				return true, nil
			}
		}
		return false, nil
	})
	killed := killAgent(t, victim)
	t.Logf("killed the agent on %s (pid %s) with SIGKILL", victim, killed)

	pods := e.waitPodsReady(names, podReadyTimeout)
	e.requireAgentsReady()
	seen := map[string]string{}
	for _, p := range pods {
		if other, dup := seen[p.Status.PodIP]; dup {
			t.Fatalf("pods %s and %s share %s", other, p.Name, p.Status.PodIP)
		}
		seen[p.Status.PodIP] = p.Name
	}
	assertNoClusterDuplicates(t, e.c)

	want := make([]string, 0, len(pods))
	for ip := range seen {
		want = append(want, ip)
	}
	sort.Strings(want)
	var held []string
	eventually(t, ipLeakWindow, "IPAM holds exactly the running pods' addresses", func(ctx context.Context) (bool, error) {
		var err error
		held, err = heldAddresses(ctx, e, e.ns)
		return strings.Join(held, ",") == strings.Join(want, ","), err
	})

	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if err := e.c.cs.CoreV1().Pods(e.ns).DeleteCollection(ctx2, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "pods gone", func(ctx context.Context) (bool, error) {
		list, err := e.c.cs.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == 0, err
	})
	eventually(t, ipLeakWindow, "no address of the namespace held after its pods are gone", func(ctx context.Context) (bool, error) {
		var err error
		held, err = heldAddresses(ctx, e, e.ns)
		return len(held) == 0, err
	})
}

// killAgent SIGKILLs the kubefay-agent process of node: the one in the node's
// network namespace (the agent is hostNetwork), found from inside the node.
func killAgent(t *testing.T, node string) string {
	t.Helper()
	script := `me=$(readlink /proc/self/ns/net); for p in $(pgrep -x kubefay-agent); do [ "$(readlink /proc/$p/ns/net)" = "$me" ] && kill -9 $p && echo $p; done; true`
	out, err := labExec(time.Minute, "exec", node, "sh", "-c", script)
	if err != nil || out == "" {
		missing(t, fmt.Sprintf("cannot find/kill the kubefay-agent of %s (hack/lab exec): %v %s", node, err, out))
	}
	return out
}

// ipamBlocks lists every IPAMBlock of the cluster.
func ipamBlocks(ctx context.Context, e *env) ([]v1alpha1.IPAMBlock, error) {
	dc, err := dynamic.NewForConfig(e.c.cfg)
	if err != nil {
		return nil, err
	}
	list, err := dc.Resource(ipamBlockGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	blocks := make([]v1alpha1.IPAMBlock, len(list.Items))
	for i, u := range list.Items {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &blocks[i]); err != nil {
			return nil, err
		}
	}
	return blocks, nil
}

// heldAddresses lists, sorted, the addresses IPAMBlocks hold for pods of namespace.
func heldAddresses(ctx context.Context, e *env, namespace string) ([]string, error) {
	blocks, err := ipamBlocks(ctx, e)
	if err != nil {
		return nil, err
	}
	var held []string
	for _, b := range blocks {
		for ip, a := range b.Spec.Allocations {
			if a.Namespace == namespace {
				held = append(held, ip)
			}
		}
	}
	sort.Strings(held)
	return held, nil
}

// assertNoClusterDuplicates fails when two live pods of the cluster (host
// network aside) report the same address.
func assertNoClusterDuplicates(t *testing.T, c *cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := c.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	for _, p := range list.Items {
		if p.Spec.HostNetwork || p.Status.PodIP == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if other, dup := by[p.Status.PodIP]; dup {
			t.Fatalf("pods %s and %s/%s share %s", other, p.Namespace, p.Name, p.Status.PodIP)
		}
		by[p.Status.PodIP] = p.Namespace + "/" + p.Name
	}
}
