package e2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAgentRestartKeepsFlows: an agent killed with SIGKILL and restarted by
// kubelet must not delete what still forwards traffic while it rebuilds its
// desired state. Every flow on br-int before the kill (base, subnet, tunnel,
// pod and NetworkPolicy flows) is there afterwards with its age intact: it
// was never deleted and re-added. OVS keeps a flow's creation time across a
// modify, so only a delete + add makes it younger than the time elapsed.
func TestAgentRestartKeepsFlows(t *testing.T) {
	disruptive(t)
	e := setup(t, "agent-flows")
	victim := e.nodes[0].Name
	pods := e.createPods(netexecPod("local", victim), netexecPod("remote", e.nodes[1].Name))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	np := npPolicy("allow-local", map[string]string{podLabel: "local"}, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})
	np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
	if _, err := e.c.cs.NetworkingV1().NetworkPolicies(e.ns).Create(ctx, np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "policy flows of the local pod on "+victim, func(context.Context) (bool, error) {
		return strings.Contains(runLab(t, time.Minute, "exec", victim, "ovs-ofctl", "-O", "OpenFlow15", "dump-flows", "br-int"),
			"cookie=0x4b05"), nil // pipeline.FeaturePolicy
	})
	// other tests' namespaces being torn down would remove flows legitimately
	eventually(t, 3*time.Minute, "no pod of the cluster terminating", func(ctx context.Context) (bool, error) {
		pods, err := e.c.cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				return false, nil
			}
		}
		return true, nil
	})
	time.Sleep(2 * time.Second) // let the newest flows age a little

	before, t0 := bridgeFlows(t, victim), time.Now()
	restarts := agentRestarts(ctx, t, e, victim)
	killAgent(t, victim)
	e.waitAgentRestarted(ctx, victim, restarts)
	after, t1 := bridgeFlows(t, victim), time.Now()

	// a lost flow counts when it is node-wide or the test pod's; other
	// tests' pods may go away meanwhile (their sandboxes' DEL can come late)
	localIP := pods["local"].Status.PodIP
	mustStay := func(flow string) bool {
		return strings.Contains(flow, "nw_dst="+localIP+" ") || strings.Contains(flow, "nw_src="+localIP+" ") ||
			strings.Contains(flow, "="+localIP+",") || strings.Contains(flow, "="+localIP+" ") ||
			!strings.HasPrefix(flow, "cookie=0x4b02") && !strings.HasPrefix(flow, "cookie=0x4b05")
	}
	slack := 1.0 // seconds: the two dumps are not taken at exactly t0 and t1
	var lost, recreated []string
	for key, age := range before {
		now, ok := after[key]
		switch {
		case !ok && !mustStay(key):
			t.Logf("gone meanwhile (another test's pod?): %s", key)
		case !ok:
			lost = append(lost, key)
		case now+slack < age+t1.Sub(t0).Seconds():
			recreated = append(recreated, key+" (age "+strconv.FormatFloat(now, 'f', 1, 64)+" s)")
		}
	}
	t.Logf("%d flows before, %d after the agent restart (%.1f s)", len(before), len(after), t1.Sub(t0).Seconds())
	if len(lost)+len(recreated) > 0 {
		t.Errorf("the restarted agent deleted %d flows and re-added %d of %d:\nlost: %s\nre-added: %s",
			len(lost), len(recreated), len(before), strings.Join(lost, "\n  "), strings.Join(recreated, "\n  "))
	}
}

var flowStat = regexp.MustCompile(`(duration|n_packets|n_bytes|idle_age|hard_age|idle_timeout)=[^ ,]*,? ?`)
var flowAge = regexp.MustCompile(`duration=([0-9.]+)s`)

// bridgeFlows returns br-int's flows on node: flow text without statistics
// (cookie, match and actions) -> age in seconds.
func bridgeFlows(t *testing.T, node string) map[string]float64 {
	t.Helper()
	out := runLab(t, time.Minute, "exec", node, "ovs-ofctl", "-O", "OpenFlow15", "dump-flows", "br-int")
	flows := map[string]float64{}
	for _, l := range strings.Split(out, "\n") {
		m := flowAge.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		age, _ := strconv.ParseFloat(m[1], 64)
		flows[strings.TrimSpace(flowStat.ReplaceAllString(l, ""))] = age
	}
	if len(flows) == 0 {
		t.Fatalf("no flows on %s's br-int:\n%s", node, out)
	}
	return flows
}

// agentRestarts is the restart count of the agent container on node.
func agentRestarts(ctx context.Context, t *testing.T, e *env, node string) int32 {
	t.Helper()
	p, err := e.agentPod(ctx, node)
	if err != nil || p == nil {
		t.Fatalf("agent pod on %s: %v", node, err)
	}
	var n int32
	for _, s := range p.Status.ContainerStatuses {
		n += s.RestartCount
	}
	return n
}

// waitAgentRestarted waits until the agent on node has restarted (its
// container restart count passed restarts) and is Ready again.
func (e *env) waitAgentRestarted(ctx context.Context, node string, restarts int32) *corev1.Pod {
	e.t.Helper()
	var got *corev1.Pod
	eventually(e.t, agentReadyTimeout, "agent on "+node+" restarted and Ready", func(ctx context.Context) (bool, error) {
		p, err := e.agentPod(ctx, node)
		if err != nil || p == nil {
			return false, err
		}
		got = p
		return agentRestarts(ctx, e.t, e, node) > restarts && podReady(p), nil
	})
	return got
}
