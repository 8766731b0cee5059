// Package chart checks the renders of the Helm chart build/helm/kubefay that
// hack/manifests.sh writes (and `hack/manifests.sh --verify` proves current):
// build/yamls/kubefay.yml (default values) and testdata/*.golden.yaml. The
// agent and the controller read the rendered configuration as they will in
// the cluster.
package chart

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	agentconfig "github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// want is what a render must say, value by value.
type want struct {
	namespace, image, pullPolicy string
	datapath, tunnel             string
	mtu                          int
	serviceCIDRs                 []string
	agentMetrics, probeHost      string
	agentProbePort               int32
	subnet, cidr, gateway        string
	nat                          bool
	controllerMetrics, health    string
	agentSecure, ctrlSecure      string // secure metrics addresses ("" = off)
	crds                         int
}

func TestRenders(t *testing.T) {
	for _, tt := range []struct {
		file string
		want want
	}{
		{"../../build/yamls/kubefay.yml", want{
			namespace: "kube-system", image: "kubefay/kubefay:dev", pullPolicy: "IfNotPresent",
			datapath: "system", tunnel: "vxlan", serviceCIDRs: []string{"10.96.0.0/12"},
			agentMetrics: "127.0.0.1:10351", probeHost: "127.0.0.1", agentProbePort: 10351,
			subnet: "defaultnet", cidr: "10.192.0.0/16", nat: true,
			controllerMetrics: "127.0.0.1:10352", health: "127.0.0.1:10353", crds: 2,
			agentSecure: ":10349", ctrlSecure: ":10350",
		}},
		{"testdata/custom.golden.yaml", want{
			namespace: "kubefay-system", image: "registry.example.com/kubefay:v0.2.0", pullPolicy: "Always",
			datapath: "netdev", tunnel: "geneve", mtu: 1400, serviceCIDRs: []string{"10.96.0.0/16", "10.97.0.0/16"},
			agentMetrics: "0.0.0.0:9351", probeHost: "127.0.0.1", agentProbePort: 9351,
			subnet: "podnet", cidr: "10.200.0.0/16", gateway: "10.200.0.254", nat: false,
			controllerMetrics: "127.0.0.1:9352", health: "127.0.0.1:9353", crds: 2,
			agentSecure: ":9349",
		}},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) { checkRender(t, tt.file, tt.want) })
	}
}

func checkRender(t *testing.T, file string, w want) {
	objs := read(t, file)
	kinds := map[string]int{}
	var (
		cm   corev1.ConfigMap
		ds   appsv1.DaemonSet
		dep  appsv1.Deployment
		crbs []rbacv1.ClusterRoleBinding
	)
	for _, o := range objs {
		kinds[o.GetKind()]++
		switch o.GetKind() {
		case "CustomResourceDefinition":
			// before what names kubefay's kinds: the policies (paramKind SubNet), the workloads
			for _, k := range []string{"ValidatingAdmissionPolicy", "DaemonSet", "Deployment"} {
				if kinds[k] > 0 {
					t.Errorf("CRD %s after a %s", o.GetName(), k)
				}
			}
		case "ConfigMap":
			convert(t, o, &cm)
		case "DaemonSet":
			convert(t, o, &ds)
		case "Deployment":
			convert(t, o, &dep)
		case "ClusterRoleBinding", "RoleBinding":
			var b rbacv1.ClusterRoleBinding // a RoleBinding's fields are the same
			convert(t, o, &b)
			crbs = append(crbs, b)
		case "SubNet":
			t.Errorf("a SubNet in the render: kubectl cannot apply it together with its CRD (the controller creates %s)", w.subnet)
		}
		if ns := o.GetNamespace(); ns != "" && ns != w.namespace {
			t.Errorf("%s %s in namespace %s, want %s", o.GetKind(), o.GetName(), ns, w.namespace)
		}
	}
	wantKinds := map[string]int{"CustomResourceDefinition": w.crds, "ServiceAccount": 2, "ClusterRole": 3, "ClusterRoleBinding": 2,
		"Role": 2, "RoleBinding": 1, "ConfigMap": 1, "DaemonSet": 1, "Deployment": 1, "ValidatingAdmissionPolicy": 6, "ValidatingAdmissionPolicyBinding": 6}
	if w.namespace != "kube-system" {
		wantKinds["Namespace"] = 1
	}
	for k, n := range wantKinds {
		if kinds[k] != n {
			t.Errorf("%d %s, want %d (all kinds: %v)", kinds[k], k, n, kinds)
		}
	}
	for _, b := range crbs {
		if len(b.Subjects) != 1 || b.Subjects[0].Namespace != w.namespace || b.Subjects[0].Name != b.Name {
			t.Errorf("binding %s: subjects %+v, want ServiceAccount %s/%s", b.Name, b.Subjects, w.namespace, b.Name)
		}
	}

	a, err := agentconfig.Parse([]byte(cm.Data["agent.yaml"]))
	if err != nil {
		t.Fatalf("agent.yaml: %v", err)
	}
	if a.DatapathType != w.datapath || a.TunnelType != w.tunnel || a.MTU != w.mtu || a.MetricsAddr != w.agentMetrics || a.SecureMetricsAddr != w.agentSecure ||
		a.DefaultSubnet != w.subnet || !slices.Equal(a.ServiceCIDRs, w.serviceCIDRs) {
		t.Errorf("agent.yaml = %+v, want %+v", a, w)
	}
	c := controllerConfig(t, cm.Data["controller.yaml"])
	s := c.DefaultSubnet
	if s.Name != w.subnet || s.CIDR != w.cidr || s.Gateway != w.gateway || s.NATOutgoing == nil || *s.NATOutgoing != w.nat ||
		c.MetricsAddress != w.controllerMetrics || c.HealthAddress != w.health || c.SecureMetricsAddress != w.ctrlSecure {
		t.Errorf("controller.yaml = %+v (natOutgoing %v), want %+v", c, s.NATOutgoing, w)
	}

	pods := []corev1.PodSpec{ds.Spec.Template.Spec, dep.Spec.Template.Spec}
	for _, p := range pods {
		for _, ctr := range append(p.InitContainers, p.Containers...) {
			if ctr.Image != w.image || string(ctr.ImagePullPolicy) != w.pullPolicy {
				t.Errorf("container %s: image %s (%s), want %s (%s)", ctr.Name, ctr.Image, ctr.ImagePullPolicy, w.image, w.pullPolicy)
			}
		}
	}
	agent := ds.Spec.Template.Spec.Containers[0]
	for _, p := range []*corev1.Probe{agent.ReadinessProbe, agent.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Host != w.probeHost || p.HTTPGet.Port.IntVal != w.agentProbePort {
			t.Errorf("agent probe %+v, want %s:%d", p, w.probeHost, w.agentProbePort)
		}
	}
}

// controllerConfig loads controller.yaml as the controller does (defaults, validation).
func controllerConfig(t *testing.T, data string) *controller.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "controller.yaml")
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := controller.LoadConfig(p)
	if err != nil {
		t.Fatalf("controller.yaml: %v", err)
	}
	return c
}

// read decodes every object of a multi-document YAML file, in order.
func read(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := apiserver.ReadObjects(path)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func convert(t *testing.T, o *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
}
