package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// What the lab (hack/lab up) provides; the tests compare against these.
const (
	defaultSubnetCIDR = "10.192.0.0/16" // SubNet defaultnet
	defaultGateway    = "10.192.0.1"    // its gateway, anycast on every node's gw0
	serviceCIDR       = "10.96.0.0/16"
	externalHost      = "198.51.100.254" // kflab-ext: agnhost netexec on :8080, not a node
	tunnelOverhead    = 50               // VXLAN/Geneve: pod MTU = uplink MTU - 50

	agnhostImage = "registry.k8s.io/e2e-test-images/agnhost:2.66.1"

	agentNamespace = "kube-system"
	agentSelector  = "app=kubefay,component=agent"

	podReadyTimeout   = 3 * time.Minute
	agentReadyTimeout = 3 * time.Minute
)

// labNode is a node the tests pin pods to.
type labNode struct {
	Name string
	IP   string // InternalIP, the node's underlay address (198.51.100.1x)
}

// env is one test's view of the lab: the cluster, its own namespace and the
// two nodes it uses.
type env struct {
	t     *testing.T
	c     *cluster
	ns    string
	nodes []labNode // sorted by name: nodes[0] is node1, nodes[1] is node2 in the lab
}

// setup connects to the lab, checks that two nodes and their kubefay agents
// are Ready, and creates the test's namespace e2e-<name>-<random> (deleted in
// t.Cleanup).
func setup(t *testing.T, name string) *env {
	t.Helper()
	c := connect(t)
	e := &env{t: t, c: c}
	e.nodes = readyNodes(t, c)
	e.requireAgentsReady()
	e.ns = createNamespace(t, c, name)
	return e
}

// readyNodes returns the first two Ready, schedulable nodes by name, or fails.
func readyNodes(t *testing.T, c *cluster) []labNode {
	t.Helper()
	var nodes []labNode
	var seen []string
	eventually(t, 2*time.Minute, "2 Ready schedulable nodes with an InternalIP", func(ctx context.Context) (bool, error) {
		list, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		nodes, seen = nil, nil
		for _, n := range list.Items {
			ready, ip := nodeReady(&n), internalIP(&n)
			seen = append(seen, fmt.Sprintf("%s(ready=%v ip=%q unschedulable=%v)", n.Name, ready, ip, n.Spec.Unschedulable))
			if ready && ip != "" && !n.Spec.Unschedulable {
				nodes = append(nodes, labNode{Name: n.Name, IP: ip})
			}
		}
		if len(nodes) < 2 {
			return false, fmt.Errorf("nodes: %s", strings.Join(seen, ", "))
		}
		return true, nil
	})
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return nodes[:2]
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func internalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address).To4() != nil {
			return a.Address
		}
	}
	return ""
}

// requireAgentsReady fails unless the kubefay agent pod on each of the test's
// nodes is Ready: without it no pod gets a network, and the failure would
// otherwise show up later as a less precise pod timeout.
func (e *env) requireAgentsReady() {
	e.t.Helper()
	for _, n := range e.nodes {
		e.waitAgentReady(n.Name, "", agentReadyTimeout)
	}
}

// agentPod returns the kubefay agent pod on node (nil if there is none).
func (e *env) agentPod(ctx context.Context, node string) (*corev1.Pod, error) {
	list, err := e.c.cs.CoreV1().Pods(agentNamespace).List(ctx, metav1.ListOptions{
		LabelSelector: agentSelector,
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(),
	})
	if err != nil {
		return nil, err
	}
	var best *corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		if best == nil || p.CreationTimestamp.After(best.CreationTimestamp.Time) {
			best = p
		}
	}
	return best, nil
}

// waitAgentReady waits until an agent pod on node, other than the one with
// UID notUID (a pod just deleted), is Ready, and returns it.
func (e *env) waitAgentReady(node string, notUID string, timeout time.Duration) *corev1.Pod {
	e.t.Helper()
	var got *corev1.Pod
	ctx, cancel := context.WithTimeout(context.Background(), scaled(timeout))
	defer cancel()
	last := "no agent pod listed yet"
	for {
		p, err := e.agentPod(ctx, node)
		switch {
		case err != nil:
			last = "list: " + err.Error()
		case p == nil:
			last = fmt.Sprintf("no pod matching %s in %s on node %s", agentSelector, agentNamespace, node)
		case string(p.UID) == notUID:
			last = fmt.Sprintf("only the deleted agent pod %s is listed", p.Name)
		case podReady(p):
			got = p
		default:
			last = describePod(p)
		}
		if got != nil {
			return got
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("kubefay agent on node %s: expected a Ready pod (%s in %s) within %s; observed: %s",
				node, agentSelector, agentNamespace, timeout, last)
		case <-time.After(time.Second):
		}
	}
}

// disruptive skips tests that restart kubefay or OVS when
// KUBEFAY_E2E_DISRUPTIVE=0.
func disruptive(t *testing.T) {
	t.Helper()
	if os.Getenv("KUBEFAY_E2E_DISRUPTIVE") == "0" {
		t.Skip("KUBEFAY_E2E_DISRUPTIVE=0: skipping a test that restarts kubefay/OVS")
	}
}

// runLab runs hack/lab with args (e.g. "restart-ovs", "node1") from the repo
// root (found from the test's working directory, test/e2e) and returns its
// combined output.
func runLab(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join("..", "..", "hack", "lab")); err != nil {
		missing(t, "lab script not found: "+err.Error())
	}
	out, err := labCmd(timeout, args...)
	if err != nil {
		t.Fatalf("hack/lab %s: %v (timeout %s)\n%s", strings.Join(args, " "), err, timeout, out)
	}
	return string(out)
}

// labExec runs hack/lab ARGS (e.g. exec NODE CMD...), returning its trimmed
// output (stdout and stderr) and error, for callers that handle failures.
func labExec(timeout time.Duration, args ...string) (string, error) {
	out, err := labCmd(timeout, args...)
	return strings.TrimSpace(string(out)), err
}

// labCmd runs hack/lab ARGS from the repository root under a timeout.
func labCmd(timeout time.Duration, args ...string) ([]byte, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "lab"), args...)
	cmd.Dir = root
	return cmd.CombinedOutput()
}
