package controlplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// TestSeedInstall: the README's install — the chart rendered with its
// default values, piped into one `kubectl apply -f -` on a cluster without
// kubefay — succeeds (no object of the render needs a CRD that the same
// apply creates), and again unchanged; the controller, with the render's
// controller.yaml and its own ServiceAccount's RBAC, then creates defaultnet
// 10.192.0.0/16, which `kubectl get subnet defaultnet` shows.
func TestSeedInstall(t *testing.T) {
	// the agent is privileged, as clusters running a CNI allow (and the lab does)
	srv := apiserver.Start(t, apiserver.Options{ExtraAPIServerFlags: []string{"--allow-privileged=true"}})
	bin, err := apiserver.BinDir()
	if err != nil {
		apiserver.SkipOrFail(t, err)
	}
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	render, err := os.ReadFile(filepath.Join(root, installFile))
	if err != nil {
		t.Fatal(err)
	}
	kubectl := func(stdin []byte, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", srv.Kubeconfig}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	kubectl(render, "apply", "-f", "-")
	if out := kubectl(render, "apply", "-f", "-"); strings.Contains(out, "configured") {
		t.Errorf("a second apply changed objects:\n%s", out)
	}

	scheme, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, cfg: srv.Config(), scheme: scheme, c: c}
	var cm corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: agentNamespace, Name: "kubefay-config"}, &cm); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "controller.yaml")
	if err := os.WriteFile(p, []byte(cm.Data["controller.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := controller.LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MetricsAddress, cfg.HealthAddress = "0", "0" // no fixed ports in tests
	// leader election on, as deployed: defaultnet appears only once the Lease is held
	asController := *e
	asController.cfg = rest.CopyConfig(e.cfg)
	asController.cfg.BearerToken = e.saToken(t, "kubefay-controller", nil)
	asController.runController(t, cfg)

	eventually(t, time.Minute, func() string {
		sn, err := getSubnet(e, "defaultnet")
		if err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(sn.Status.Conditions, controller.ConditionReady)
		if sn.Spec.CIDR != "10.192.0.0/16" || sn.Spec.NATOutgoing == nil || !*sn.Spec.NATOutgoing ||
			sn.Status.Gateway != "10.192.0.1" || ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Sprintf("defaultnet spec %+v status %+v", sn.Spec, sn.Status)
		}
		return ""
	})
	if out := kubectl(nil, "get", "subnet", "defaultnet"); !strings.Contains(out, "10.192.0.0/16") {
		t.Errorf("kubectl get subnet defaultnet:\n%s", out)
	}
}

// installObjects returns the objects of build/yamls/kubefay.yml, the Helm
// chart rendered with its default values (hack/manifests.sh keeps it current).
func installObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return readManifests(t, filepath.Join(root, installFile))
}

// installFile is the chart's default render, relative to the repository root.
var installFile = filepath.Join("build", "yamls", "kubefay.yml")

// TestInstallCNIUnprivileged: the agent's init container only copies files
// into hostPath directories, as root, so it runs without privileges.
func TestInstallCNIUnprivileged(t *testing.T) {
	var ds appsv1.DaemonSet
	for _, o := range installObjects(t) {
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
		t.Fatalf("no install-cni init container in %s", installFile)
	}
}
