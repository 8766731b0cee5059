package e2e

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubefay/kubefay/pkg/cli"
)

// kubefayCLI runs `kubectl kubefay args...` in-process against the lab with
// the test's kubeconfig (the agents are reached by pods/exec).
func kubefayCLI(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := cli.NewCommand(&cli.Options{Out: &out, ErrOut: &out})
	cmd.SetArgs(append([]string{"--kubeconfig", os.Getenv("KUBECONFIG")}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), scaled(60*time.Second))
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// lastLine is the final line of the output (the trace's verdict).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// expectTrace runs `trace args...` until its last line starts with want
// (policies and subnets reach the agents' flows asynchronously).
func expectTrace(t *testing.T, want string, args ...string) string {
	t.Helper()
	var out string
	eventually(t, 60*time.Second, "trace "+strings.Join(args, " ")+" ends with "+want, func(context.Context) (bool, error) {
		var err error
		out, err = kubefayCLI(append([]string{"trace"}, args...)...)
		if err != nil {
			return false, err
		}
		if !strings.HasPrefix(lastLine(out), want) {
			return false, &traceMismatch{lastLine(out)}
		}
		return true, nil
	})
	t.Logf("trace %s:\n%s", strings.Join(args, " "), out)
	return out
}

type traceMismatch struct{ got string }

func (m *traceMismatch) Error() string { return "last line: " + m.got }

// TestTraceCLI: `kubectl kubefay trace` across two nodes ends delivered;
// a source address the pod does not own ends at its spoof guard; a pod
// isolated by a NetworkPolicy (ingress, egress) ends at that isolation in
// IngressRules / EgressRules naming the policy; a pod of a private subnet
// ends at the subnet's isolation; `flows` and `agent status` answer.
func TestTraceCLI(t *testing.T) {
	e := setup(t, "trace")
	n1, n2 := e.nodes[0].Name, e.nodes[1].Name
	sn := createSubnet(t, e.c, "10.152.0.0/16", map[string]any{"private": true})
	ep := e.annotatedNamespace("trace-p", sn)
	e.createPods(netexecPod("a", n1), netexecPod("c", n1), netexecPod("b", n2))
	ep.createPods(netexecPod("p", n2))
	a, b, c, p := e.ns+"/a", e.ns+"/b", e.ns+"/c", ep.ns+"/p"

	out := expectTrace(t, "delivered to pod "+b, "--from", a, "--to", b, "--port", "8080")
	if strings.Contains(out, "not kubefay") {
		t.Errorf("cross-node trace shows a flow kubefay did not install (the underlay bridge's?)")
	}
	for _, want := range []string{"sent to node " + n2 + " through tun0", "Classifier", "L3Forwarding", "tunnel to node " + n2,
		"tunnel from node " + n1, "pod " + b} {
		if !strings.Contains(out, want) {
			t.Errorf("cross-node trace lacks %q", want)
		}
	}
	expectTrace(t, "delivered to pod "+b, "--from", a, "--to", b, "--proto", "udp", "--port", "8081")
	expectTrace(t, "dropped by spoof guard of pod "+a+" in table Classifier",
		"--from", a, "--to", b, "--src-ip", "10.192.255.250")
	expectTrace(t, "dropped by isolation of private subnet "+sn+" in table SubnetIsolation", "--from", a, "--to", p, "--port", "8080")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, np := range []*networkingv1.NetworkPolicy{
		npPolicy("deny-b", map[string]string{podLabel: "b"}, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}),
		npPolicy("deny-c-out", map[string]string{podLabel: "c"}, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}),
	} {
		if _, err := e.c.cs.NetworkingV1().NetworkPolicies(e.ns).Create(ctx, np, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	expectTrace(t, "dropped by isolation of pod "+b+" (ingress; NetworkPolicy "+e.ns+"/deny-b) in table IngressRules",
		"--from", a, "--to", b, "--port", "8080")
	expectTrace(t, "dropped by isolation of pod "+c+" (egress; NetworkPolicy "+e.ns+"/deny-c-out) in table EgressRules",
		"--from", c, "--to", b, "--port", "8080")
	// replies of established connections pass the isolation
	expectTrace(t, "delivered to pod "+b, "--from", a, "--to", b, "--port", "8080", "--reply")

	out, err := kubefayCLI("flows", "--pod", b, "--table", "IngressRules")
	if err != nil || !strings.Contains(out, "isolation of pod "+b) {
		t.Errorf("flows --pod %s --table IngressRules: %v\n%s", b, err, out)
	}
	out, err = kubefayCLI("agent", "status")
	if err != nil {
		t.Fatalf("agent status: %v\n%s", err, out)
	}
	t.Logf("agent status:\n%s", out)
	connected := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "connected" {
			connected[f[0]] = true
		}
	}
	if !connected[n1] || !connected[n2] {
		t.Errorf("agent status: want %s and %s connected to OVS:\n%s", n1, n2, out)
	}
}
