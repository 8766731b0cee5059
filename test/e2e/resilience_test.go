package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRunningPodsSurviveRestarts: pods keep (or regain within seconds) their
// connectivity, same node and cross node, after the kubefay agent on their
// node is deleted and re-created, and after that node's ovs-vswitchd is
// restarted (all OpenFlow flows lost: the agent must notice and re-install).
func TestRunningPodsSurviveRestarts(t *testing.T) {
	disruptive(t)
	e := setup(t, "restart")
	var specs []*corev1.Pod
	for _, n := range e.nodes {
		for _, s := range []string{"a", "b"} {
			specs = append(specs, netexecPod(n.Name+"-"+s, n.Name))
		}
	}
	pods := e.createPods(specs...)
	victim := e.nodes[0].Name
	src := pods[victim+"-a"]
	targets := []*corev1.Pod{pods[victim+"-b"], pods[e.nodes[1].Name+"-a"]}

	check := func(stage string) {
		t.Helper()
		var probes []probe
		for _, dst := range targets {
			dstIP, want := dst.Status.PodIP, dst.Name
			probes = append(probes, probe{kind: "http :8080/hostname " + stage,
				from: src.Name + "@" + src.Spec.NodeName, to: dst.Name + "@" + dst.Spec.NodeName,
				expect: fmt.Sprintf("%q", want),
				run: func(ctx context.Context) (string, bool) {
					body, err := e.c.curl(ctx, src, netexecContainer, fmt.Sprintf("http://%s:%d/hostname", dstIP, httpPort))
					if err != nil {
						return errText(err), false
					}
					return fmt.Sprintf("%q", body), body == want
				}})
		}
		if !reportProbes(t, "pod -> pod "+stage, runProbes(probes, probeWindow)) {
			t.FailNow()
		}
	}
	check("before any restart")

	// 1. the agent pod is deleted; the DaemonSet re-creates it; flows are kept and re-synced
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	old, err := e.agentPod(ctx, victim)
	if err != nil || old == nil {
		t.Fatalf("agent pod on %s: %v", victim, err)
	}
	if err := e.c.cs.CoreV1().Pods(agentNamespace).Delete(ctx, old.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitAgentReady(victim, string(old.UID), agentReadyTimeout)
	check("after the agent was re-created")

	// 2. ovs-vswitchd restarts: every flow is gone until the agent reconnects and re-installs
	runLab(t, 2*time.Minute, "restart-ovs", victim)
	check("after ovs-vswitchd restarted")
}
