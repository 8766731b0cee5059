package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// testNow is the clock of every test: ages are computed against it.
var testNow = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

const webContainer = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-d)) }

func block(name, subnet, cidr, node string, allocs map[string]v1alpha1.Allocation) *v1alpha1.IPAMBlock {
	return &v1alpha1.IPAMBlock{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       v1alpha1.IPAMBlockSpec{Subnet: subnet, CIDR: cidr, Node: node, Allocations: allocs},
	}
}

func namespace(name string, ann map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}}
}

// fixture is a small cluster: defaultnet with two node blocks (node
// gateway addresses, a pod, a static address taken in another node's
// block), newnet (private, excludeIPs, namespaces by annotation and by
// spec) and a block whose SubNet was deleted.
func fixture() []client.Object {
	noNAT := false
	return []client.Object{
		&v1alpha1.SubNet{
			ObjectMeta: metav1.ObjectMeta{Name: "defaultnet"},
			Spec:       v1alpha1.SubNetSpec{IPVersion: "v4", CIDR: "10.192.0.0/16"},
			Status:     v1alpha1.SubNetStatus{Gateway: "10.192.0.1", Used: 4, Available: 65529},
		},
		&v1alpha1.SubNet{
			ObjectMeta: metav1.ObjectMeta{Name: "newnet"},
			Spec: v1alpha1.SubNetSpec{CIDR: "10.182.0.0/24", Gateway: "10.182.0.254", BlockSize: 26,
				ExcludeIPs: []string{"10.182.0.10..10.182.0.20"}, NATOutgoing: &noNAT, Private: true,
				AllowSubnets: []string{"10.192.0.0/16"}, Namespaces: []string{"team-b"}},
			Status: v1alpha1.SubNetStatus{Used: 0, Available: 242},
		},
		block("defaultnet.10-192-0-0-26", "defaultnet", "10.192.0.0/26", "node-a", map[string]v1alpha1.Allocation{
			"10.192.0.2":  {ContainerID: "node-node-a", Interface: "gw0", Node: "node-a", Created: ago(48 * time.Hour)},
			"10.192.0.3":  {Namespace: "default", Pod: "web-1", PodUID: "uid-web-1", ContainerID: webContainer, Interface: "eth0", Node: "node-a", Created: ago(5 * time.Minute)},
			"10.192.0.10": {Namespace: "default", Pod: "db-0", PodUID: "uid-db-0", ContainerID: "c-db-0", Interface: "eth0", Node: "node-b", Static: true},
		}),
		block("defaultnet.10-192-0-64-26", "defaultnet", "10.192.0.64/26", "node-b", map[string]v1alpha1.Allocation{
			"10.192.0.65": {ContainerID: "node-node-b", Interface: "gw0", Node: "node-b", Created: ago(47 * time.Hour)},
		}),
		block("newnet.10-182-0-0-26", "newnet", "10.182.0.0/26", "node-a", map[string]v1alpha1.Allocation{
			"10.182.0.2": {Namespace: "team-a", Pod: "app", ContainerID: "c-app", Interface: "eth0", Created: ago(90 * time.Second)},
		}),
		block("gone.10-50-0-0-26", "gone", "10.50.0.0/26", "node-a", map[string]v1alpha1.Allocation{
			"10.50.0.5": {Namespace: "old", Pod: "leftover", ContainerID: "c-old", Interface: "eth0", Node: "node-a"},
		}),
		namespace("default", nil),
		namespace("team-a", map[string]string{"subnet": "newnet"}),
		namespace("team-c", map[string]string{"kubefay.io/subnet": "newnet"}),
		namespace("team-b", map[string]string{"unrelated": "x"}),
	}
}

// run runs the plugin with args against a fake client holding objs and
// returns stdout (trailing spaces trimmed), stderr and the error.
func run(t *testing.T, objs []client.Object, args ...string) (string, string, error) {
	t.Helper()
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	var out, errOut bytes.Buffer
	o := &Options{Out: &out, ErrOut: &errOut, Now: func() time.Time { return testNow },
		NewClient: func() (client.Reader, error) { return c, nil }}
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return trimLines(out.String()), errOut.String(), err
}

// expectRun runs the command on fixture() and expects stdout want, or an
// error containing wantErr when that is set.
func expectRun(t *testing.T, args []string, want, wantErr string) {
	t.Helper()
	got, _, err := run(t, fixture(), args...)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one containing %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
}

// trimLines removes the trailing spaces tabwriter leaves.
func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// dedent strips the common leading newline of a raw-string golden.
func dedent(s string) string { return strings.TrimPrefix(s, "\n") }
