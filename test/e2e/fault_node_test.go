package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNodeDeletedAndReAdded: node2's Node object is deleted and, once the
// controller's GC has had the time to free the addresses of a gone node,
// node2 rejoins (kubelet registers it again, kube-proxy restarts). node2's own gw0 address must still be
// the node's in IPAM (re-claimed by the agent), never a pod's, and pods on
// node2 get networks and reach node1's pods again.
func TestNodeDeletedAndReAdded(t *testing.T) {
	disruptive(t)
	e := setup(t, "node-readd")
	n1, n2 := e.nodes[0].Name, e.nodes[1].Name
	a := e.createPods(netexecPod("a", n1))["a"]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := e.c.cs.CoreV1().Nodes().Delete(ctx, n2, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			runLab(t, 3*time.Minute, "rejoin", n2)
		}
	}()
	time.Sleep(25 * time.Second) // a GC pass (every 15 s) sees the node gone
	runLab(t, 3*time.Minute, "rejoin", n2)
	restarted = true
	e.waitAgentReady(n2, "", agentReadyTimeout)

	gw := strings.Fields(runLab(t, time.Minute, "exec", n2, "ip", "-4", "-o", "addr", "show", "gw0"))
	var nodeAddr string // gw0's first address is the node's own (a /32), then the gateways
	for i, f := range gw {
		if f == "inet" && i+1 < len(gw) {
			nodeAddr, _, _ = strings.Cut(gw[i+1], "/")
			break
		}
	}
	eventually(t, time.Minute, "node2's gw0 address "+nodeAddr+" held by node2 in IPAM", func(ctx context.Context) (bool, error) {
		blocks, err := ipamBlocks(ctx, e)
		if err != nil {
			return false, err
		}
		for _, b := range blocks {
			if al, ok := b.Spec.Allocations[nodeAddr]; ok {
				return al.Pod == "" && al.ContainerID == "node-"+n2, nil
			}
		}
		return false, nil
	})
	got := e.createPods(netexecPod("b", n2))
	if ip := got["b"].Status.PodIP; ip == nodeAddr {
		t.Fatalf("pod b got node2's own address %s", ip)
	}
	if out, err := pingFromPod(got["b"], a.Status.PodIP); err != nil {
		t.Errorf("b on the re-added node -> a: %v %s", err, out)
	}
}
