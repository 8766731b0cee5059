package e2e

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStatefulSetIPPool: a StatefulSet whose pod template carries an
// `ipPool` annotation gives pod N entry N of the pool; a deleted pod comes
// back (re-created by the StatefulSet controller) with the same address as
// soon as the old one's is released — no manual cleanup.
func TestStatefulSetIPPool(t *testing.T) {
	e := setup(t, "ippool")
	pool := []string{"10.192.254.11", "10.192.254.12"}
	replicas, grace := int32(2), int64(1)
	labels := map[string]string{"app": "pooled"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas, ServiceName: "web", PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels,
					Annotations: map[string]string{"ipPool": pool[0] + "," + pool[1]}},
				Spec: corev1.PodSpec{TerminationGracePeriodSeconds: &grace,
					Containers: []corev1.Container{agnhostContainer("c", "pause")}},
			},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.c.cs.AppsV1().StatefulSets(e.ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web-0": pool[0], "web-1": pool[1]}
	check := func(stage string) string {
		t.Helper()
		pods := e.waitPodsReady([]string{"web-0", "web-1"}, podReadyTimeout)
		for name, ip := range want {
			if got := pods[name].Status.PodIP; got != ip {
				t.Fatalf("%s: %s has %s, want pool entry %s", stage, name, got, ip)
			}
		}
		return string(pods["web-0"].UID)
	}
	oldUID := check("created")
	if err := e.c.cs.CoreV1().Pods(e.ns).Delete(ctx, "web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, "web-0 re-created", func(ctx context.Context) (bool, error) {
		p, err := e.c.cs.CoreV1().Pods(e.ns).Get(ctx, "web-0", metav1.GetOptions{})
		return err == nil && string(p.UID) != oldUID, nil
	})
	check("web-0 re-created")
	t.Logf("web-0 and web-1 kept %v across a re-creation", pool)
}
