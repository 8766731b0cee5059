package controlplane

import (
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// TestInstallCNIUnprivileged: the agent's init container only copies files
// into hostPath directories, as root, so it runs without privileges.
func TestInstallCNIUnprivileged(t *testing.T) {
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var ds appsv1.DaemonSet
	for _, o := range readManifests(t, filepath.Join(root, "build", "manifests", "agent.yaml")) {
		if o.GetKind() == "DaemonSet" {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &ds); err != nil {
				t.Fatal(err)
			}
		}
	}
	found := false
	for _, c := range ds.Spec.Template.Spec.InitContainers {
		if c.Name != "install-cni" {
			continue
		}
		found = true
		sc := c.SecurityContext
		switch {
		case sc == nil || sc.Privileged != nil && *sc.Privileged:
			t.Errorf("install-cni is privileged (securityContext %+v)", sc)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("install-cni may escalate privileges")
		case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL":
			t.Errorf("install-cni keeps the default capabilities: %+v", sc.Capabilities)
		}
	}
	if !found {
		t.Fatal("no install-cni init container in build/manifests/agent.yaml")
	}
}
