package e2e

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestLabNodesRegistered: every lab node's kubelet registered with the
// apiserver and reports the kubelet version the lab built.
func TestLabNodesRegistered(t *testing.T) {
	c := connect(t)
	eventually(t, 2*time.Minute, "2 registered nodes", func(ctx context.Context) (bool, error) {
		nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, n := range nodes.Items {
			t.Logf("node %s kubelet %s addresses %v", n.Name, n.Status.NodeInfo.KubeletVersion, n.Status.Addresses)
		}
		return len(nodes.Items) >= 2, nil
	})
}
