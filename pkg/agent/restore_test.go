package agent

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// TestRestorePodsOfThisNode: the cache holds every pod of the cluster; a
// port is restored only for its pod on this node (a pod of the same name
// elsewhere does not keep it).
func TestRestorePodsOfThisNode(t *testing.T) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		node      string // of the cached pod; "" = no pod
		wantStale bool
	}{
		{"pod on this node", "n1", false},
		{"same name on another node", "n2", true},
		{"no pod", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := fake.NewClientBuilder().WithScheme(s)
			if tc.node != "" {
				b = b.WithObjects(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"},
					Spec: corev1.PodSpec{NodeName: tc.node}, Status: corev1.PodStatus{Phase: corev1.PodRunning}})
			}
			ports := listedPorts{ports: []PodPort{{Name: "kfabc", OFPort: 7, ExternalIDs: map[string]string{
				ExternalIDNamespace: "ns", ExternalIDPod: "p", ExternalIDPodUID: "u1", ExternalIDContainerID: "c1",
				ExternalIDInterface: "eth0", ExternalIDIP: "10.0.0.5/24", ExternalIDMAC: "0a:58:0a:00:00:05"}}}}
			h := &CNIHandler{Flows: flowsync.New[*of.Flow](nullSwitch{})}
			stale, err := restorePods(context.Background(), "n1", h, ports, b.Build())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(stale) == 1; got != tc.wantStale {
				t.Errorf("stale %v, want %v", got, tc.wantStale)
			}
		})
	}
}
