package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

// createNamespace creates e2e-<name>-<random> and deletes it when the test
// ends. KUBEFAY_E2E_KEEP=1 keeps the namespace of a failed test for
// debugging. The namespace allows privileged pods (hostNetwork probes).
func createNamespace(t *testing.T, c *cluster, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ns, err := c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "e2e-" + name + "-" + utilrand.String(5),
		Labels: map[string]string{
			"e2e.kubefay.io/test":                "true",
			"pod-security.kubernetes.io/enforce": "privileged",
		},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace for %s: %v", t.Name(), err)
	}
	t.Logf("namespace %s", ns.Name)
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("KUBEFAY_E2E_KEEP") == "1" {
			t.Logf("KUBEFAY_E2E_KEEP=1: keeping namespace %s of the failed test", ns.Name)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Logf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}
