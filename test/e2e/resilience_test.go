package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRunningPodsSurviveRestarts: pods keep (or regain within seconds) their
// connectivity, same node and cross node, after the kubefay agent on their
// node is deleted and re-created, and after that node's ovs-vswitchd is
// restarted (all OpenFlow flows lost: the agent must notice and re-install).
// A long TCP stream between two pods on different nodes, opened before the
// restarts, is still flowing after them.
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

	// the stream: a counter line every 100 ms from victim-node pod to the other node
	sink := pods[e.nodes[1].Name+"-b"]
	streamer := basePod("streamer", victim, corev1.Container{Name: "s", Image: agnhostImage,
		ImagePullPolicy: corev1.PullIfNotPresent, Command: []string{"/bin/sh", "-c",
			fmt.Sprintf("i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done | nc %s %d; echo STREAM-ENDED; sleep 3600",
				sink.Status.PodIP, streamPort)}})
	startSink := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// a background listener in the sink pod that records the last line it received
		if _, stderr, err := e.c.execIn(ctx, sink, netexecContainer, "/bin/sh", "-c",
			fmt.Sprintf("(nc -l %d | while read l; do echo $l > /tmp/last; done) >/dev/null 2>&1 &", streamPort)); err != nil {
			t.Fatalf("start stream sink: %v %s", err, stderr)
		}
	}
	startSink()
	e.createPods(streamer)
	// last is the last line the sink received; the sink rewrites /tmp/last for
	// every line, so a read can see it empty: read again.
	last := func() int {
		for range 10 {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			out, _, err := e.c.execIn(ctx, sink, netexecContainer, "cat", "/tmp/last")
			cancel()
			if err == nil {
				if n, err := strconv.Atoi(strings.TrimSpace(out)); err == nil {
					return n
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		return -1
	}
	streaming := func(stage string) {
		t.Helper()
		before := last()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			time.Sleep(2 * time.Second)
			if now := last(); now > before && before >= 0 {
				t.Logf("TCP stream %s: line %d -> %d", stage, before, now)
				return
			}
		}
		t.Fatalf("TCP stream %s: not flowing (last line %d, now %d)", stage, before, last())
	}
	streaming("before any restart")
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
	streaming("after the agent was re-created")

	// 2. ovs-vswitchd restarts: every flow is gone until the agent reconnects and re-installs
	// (hack/lab restarts it with flow-restore-wait=true, as a production node should)
	runLab(t, 2*time.Minute, "restart-ovs", victim)
	eventually(t, time.Minute, "the agent cleared flow-restore-wait on "+victim, func(context.Context) (bool, error) {
		cfg := runLab(t, time.Minute, "exec", victim, "ovs-vsctl", "get", "Open_vSwitch", ".", "other_config")
		return !strings.Contains(cfg, "flow-restore-wait"), nil
	})
	check("after ovs-vswitchd restarted")
	streaming("after ovs-vswitchd restarted")
}

// streamPort is where the resilience test's TCP stream goes.
const streamPort = 9000
