package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// apiOutage is how long the API server stays down (the drill: 60 s).
const apiOutage = 60 * time.Second

// TestAPIServerOutage: the API server stops while a pod is being created
// (its ADD cannot allocate) and another deleted (its DEL cannot release).
// Existing pods keep full connectivity throughout (probed from the pods'
// network namespaces, without the API); when the API server is back the new
// pod runs with a unique address and IPAM holds exactly the live pods'
// addresses.
func TestAPIServerOutage(t *testing.T) {
	disruptive(t)
	e := setup(t, "api-outage")
	n1, n2 := e.nodes[0].Name, e.nodes[1].Name
	pods := e.createPods(netexecPod("a", n1), netexecPod("b", n2), netexecPod("gone", n1))
	pa, pb := pods["a"], pods["b"]
	a, b := pa.Status.PodIP, pb.Status.PodIP
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pairs := []struct {
		src *corev1.Pod
		dst string
	}{{pa, b}, {pb, a}}
	for _, p := range pairs { // warm up: neighbours and tunnel learned
		if out, err := pingFromPod(p.src, p.dst); err != nil {
			t.Fatalf("before the outage: %s -> %s: %v %s", p.src.Status.PodIP, p.dst, err, out)
		}
	}

	// a pod being created and one being deleted when the API server stops
	e.createPodsNoWait(netexecPod("new", n1))
	if err := e.c.cs.CoreV1().Pods(e.ns).Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	runLab(t, time.Minute, "stop-apiserver")
	restarted := false
	defer func() {
		if !restarted {
			runLab(t, 2*time.Minute, "start-apiserver")
		}
	}()
	deadline := time.Now().Add(apiOutage)
	probes, failed := 0, 0
	for time.Now().Before(deadline) {
		for _, p := range pairs {
			probes++
			if out, err := pingFromPod(p.src, p.dst); err != nil {
				failed++
				t.Logf("during the outage: %s -> %s failed: %v %s", p.src.Status.PodIP, p.dst, err, out)
			}
		}
		time.Sleep(2 * time.Second)
	}
	runLab(t, 2*time.Minute, "start-apiserver")
	restarted = true
	// a restarted API server resolves the admission policies' CRD parameters
	// a moment after it answers: wait for that, or later tests would see it
	dc, err := dynamic.NewForConfig(e.c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "SubNet admission working again", func(ctx context.Context) (bool, error) {
		sn := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubefay.kubefay.github.com/v1alpha1", "kind": "SubNet",
			"metadata": map[string]any{"name": "e2e-dry-run"}, "spec": map[string]any{"ipVersion": "v4", "cidr": "10.200.99.0/24"}}}
		_, err := dc.Resource(subnetGVR).Create(ctx, sn, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err == nil, nil
	})
	t.Logf("API server down %s: %d of %d pod->pod probes failed", apiOutage, failed, probes)
	if failed > 0 {
		t.Errorf("existing pods lost connectivity while the API server was down (%d of %d probes)", failed, probes)
	}

	got := e.waitPodsReady([]string{"new"}, 3*time.Minute)
	if ip := got["new"].Status.PodIP; ip == "" || ip == a || ip == b {
		t.Fatalf("pod created during the outage got %q (a=%s b=%s)", ip, a, b)
	}
	eventually(t, ipLeakWindow+30*time.Second, "IPAM holds exactly a, b and new", func(ctx context.Context) (bool, error) {
		held, err := heldAddresses(ctx, e, e.ns)
		return len(held) == 3, err
	})
	if out, err := pingFromPod(got["new"], b); err != nil {
		t.Errorf("new pod -> b after the outage: %v %s", err, out)
	}
}

// pingFromPod pings dst (3 echoes, one answer is enough) from src's network
// namespace, entered on its node (hack/lab exec-pod: no API server needed).
func pingFromPod(src *corev1.Pod, dst string) (string, error) {
	return labExec(time.Minute, "exec-pod", src.Spec.NodeName, src.Status.PodIP, "ping", "-n", "-c", "3", "-i", "0.3", "-W", "2", dst)
}
