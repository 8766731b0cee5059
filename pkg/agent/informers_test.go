package agent

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// TestSlimPodKeepsWhatTheAgentReads: the one pod cache serves policy and the
// CNI path, so the slim copy keeps kubefay's address annotations and the
// controller reference (apiPodResolver) besides what policy reads.
func TestSlimPodKeepsWhatTheAgentReads(t *testing.T) {
	ctrl := metav1.OwnerReference{Kind: "StatefulSet", Name: "web", Controller: ptr.To(true)}
	in := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1", UID: "u1", Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{"kubefay.io/ip-pool": "10.0.0.5,10.0.0.6", "IPv4": "10.0.0.9",
				"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "Other", Name: "x"}, ctrl}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{
			{Name: "a", Image: "img", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}},
			{Name: "b", Image: "img"},
		}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.6"},
	}
	got, err := SlimPod(in)
	if err != nil {
		t.Fatal(err)
	}
	p := got.(*corev1.Pod)
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"annotations", p.Annotations, map[string]string{"kubefay.io/ip-pool": "10.0.0.5,10.0.0.6", "IPv4": "10.0.0.9"}},
		{"owner", p.OwnerReferences, []metav1.OwnerReference{ctrl}},
		{"containers", p.Spec.Containers, []corev1.Container{{Name: "a", Ports: in.Spec.Containers[0].Ports}}},
		{"node", p.Spec.NodeName, "n1"},
		{"labels", p.Labels, in.Labels},
		{"status", p.Status, corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.6"}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if bare, _ := SlimPod(&corev1.Pod{}); bare.(*corev1.Pod).Annotations != nil || bare.(*corev1.Pod).OwnerReferences != nil {
		t.Errorf("a pod without annotations or owner got some: %+v", bare)
	}
	if got, _ := SlimPod(&corev1.Namespace{}); !reflect.DeepEqual(got, &corev1.Namespace{}) {
		t.Errorf("a non-pod is changed: %v", got)
	}
}
