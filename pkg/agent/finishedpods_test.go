package agent

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	apitypes "k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// listedPorts is a Ports whose ListPodPorts returns fixed ports.
type listedPorts struct {
	nullPorts
	ports []PodPort
}

func (l listedPorts) ListPodPorts(context.Context) ([]PodPort, error) { return l.ports, nil }

// TestFinishedPorts: the ports of pods that finished or went away are
// removed (a completed Job pod whose DEL never came keeps its object, so
// nothing else frees its address); a pod the cache does not know yet, or
// whose cache copy is stale, keeps its port when the API server says it runs.
func TestFinishedPorts(t *testing.T) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	podOn := func(node, uid string, phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: apitypes.UID(uid)},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
	}
	pod := func(uid string, phase corev1.PodPhase) *corev1.Pod { return podOn("n1", uid, phase) }
	for _, tc := range []struct {
		name       string
		cache, api *corev1.Pod // nil: not there
		wantDel    bool
	}{
		{"running", pod("u1", corev1.PodRunning), pod("u1", corev1.PodRunning), false},
		{"pending (ADD in flight)", pod("u1", corev1.PodPending), pod("u1", corev1.PodPending), false},
		{"Job pod completed", pod("u1", corev1.PodSucceeded), pod("u1", corev1.PodSucceeded), true},
		{"pod failed", pod("u1", corev1.PodFailed), pod("u1", corev1.PodFailed), true},
		{"gone", nil, nil, true},
		{"re-created with another UID", pod("u2", corev1.PodRunning), pod("u2", corev1.PodRunning), true},
		{"not in the cache yet: the API says it runs", nil, pod("u1", corev1.PodRunning), false},
		{"stale cache says finished, the API says it runs", pod("u1", corev1.PodSucceeded), pod("u1", corev1.PodRunning), false},
		{"the cache's pod of that name is on another node: not this port's", podOn("n2", "u1", corev1.PodRunning), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache, api := fake.NewClientBuilder().WithScheme(s), fake.NewClientBuilder().WithScheme(s)
			if tc.cache != nil {
				cache = cache.WithObjects(tc.cache)
			}
			if tc.api != nil {
				api = api.WithObjects(tc.api)
			}
			ports := listedPorts{ports: []PodPort{{Name: "kfabc", OFPort: 7, ExternalIDs: map[string]string{
				ExternalIDNamespace: "ns", ExternalIDPod: "p", ExternalIDPodUID: "u1",
				ExternalIDContainerID: "c1", ExternalIDInterface: "eth0"}}}}
			dels, err := finishedPorts(context.Background(), "n1", ports, cache.Build(), api.Build())
			if err != nil {
				t.Fatal(err)
			}
			if got := len(dels) == 1; got != tc.wantDel {
				t.Fatalf("DEL = %v, want %v (%+v)", got, tc.wantDel, dels)
			}
			if tc.wantDel && (dels[0].ContainerID != "c1" || dels[0].IfName != "eth0") {
				t.Fatalf("DEL for %s/%s, want c1/eth0", dels[0].ContainerID, dels[0].IfName)
			}
		})
	}
}
