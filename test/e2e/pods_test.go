package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Ports of `agnhost netexec` in every server pod.
const (
	httpPort = 8080
	udpPort  = 8081
)

// Container names the tests exec into.
const (
	netexecContainer = "netexec"
	hostContainer    = "host"
)

// podLabel carries the pod's name, so a Service can select exactly one pod.
const podLabel = "e2e.kubefay.io/pod"

// agnhostContainer is an agnhost container running `/agnhost args...`.
func agnhostContainer(name string, args ...string) corev1.Container {
	return corev1.Container{
		Name:            name,
		Image:           agnhostImage,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         append([]string{"/agnhost"}, args...),
	}
}

// basePod is a pod pinned to node (spec.nodeName), quick to delete.
func basePod(name, node string, containers ...corev1.Container) *corev1.Pod {
	grace := int64(1)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{podLabel: name}},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			TerminationGracePeriodSeconds: &grace,
			Containers:                    containers,
		},
	}
}

// netexecContainerSpec serves HTTP on 8080 and UDP on 8081, with a kubelet
// httpGet readiness probe (a node -> pod check in itself).
func netexecContainerSpec() corev1.Container {
	c := agnhostContainer(netexecContainer, "netexec",
		fmt.Sprintf("--http-port=%d", httpPort), fmt.Sprintf("--udp-port=%d", udpPort))
	c.Ports = []corev1.ContainerPort{
		{Name: "http", ContainerPort: httpPort, Protocol: corev1.ProtocolTCP},
		{Name: "udp", ContainerPort: udpPort, Protocol: corev1.ProtocolUDP},
	}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/readyz", Port: intstr.FromInt32(httpPort),
		}},
		PeriodSeconds: 2, TimeoutSeconds: 2, FailureThreshold: 3,
	}
	return c
}

// netexecPod is an `agnhost netexec` pod on node.
func netexecPod(name, node string) *corev1.Pod {
	return basePod(name, node, netexecContainerSpec())
}

// hostNetPod is an idle agnhost pod in node's network namespace: the place
// to run node -> X probes from.
func hostNetPod(name, node string) *corev1.Pod {
	p := basePod(name, node, agnhostContainer(hostContainer, "pause"))
	p.Spec.HostNetwork = true
	return p
}

// createPods creates pods in the test's namespace, waits (bounded) until
// all are Ready and returns them as the apiserver sees them, by name.
func (e *env) createPods(pods ...*corev1.Pod) map[string]*corev1.Pod {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		p.Namespace = e.ns
		if _, err := e.c.cs.CoreV1().Pods(e.ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			e.t.Fatalf("create pod %s/%s on node %s: %v", e.ns, p.Name, p.Spec.NodeName, err)
		}
		names = append(names, p.Name)
	}
	return e.waitPodsReady(names, podReadyTimeout)
}

// waitPodsReady waits until every named pod is Ready. On timeout (or when a
// pod ends) it fails with, per pod that is not Ready: node, phase, IP,
// conditions, container states and the pod's recent events.
func (e *env) waitPodsReady(names []string, timeout time.Duration) map[string]*corev1.Pod {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scaled(timeout))
	defer cancel()
	start := time.Now()
	got := map[string]*corev1.Pod{}
	var lastErr error
	for {
		list, err := e.c.cs.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			byName := map[string]*corev1.Pod{}
			for i := range list.Items {
				byName[list.Items[i].Name] = &list.Items[i]
			}
			got = map[string]*corev1.Pod{}
			var ended []string
			for _, n := range names {
				p := byName[n]
				if p == nil {
					continue
				}
				if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
					ended = append(ended, n)
				}
				if podReady(p) {
					got[n] = p
				}
			}
			if len(got) == len(names) {
				e.t.Logf("%d pods Ready in %s", len(names), time.Since(start).Round(100*time.Millisecond))
				return got
			}
			if len(ended) > 0 {
				e.t.Fatalf("pods ended instead of becoming Ready:\n%s", e.diagnosePods(byName, ended))
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			list, _ := e.c.cs.CoreV1().Pods(e.ns).List(context.Background(), metav1.ListOptions{})
			byName := map[string]*corev1.Pod{}
			if list != nil {
				for i := range list.Items {
					byName[list.Items[i].Name] = &list.Items[i]
				}
			}
			var notReady []string
			for _, n := range names {
				if got[n] == nil {
					notReady = append(notReady, n)
				}
			}
			e.t.Fatalf("expected pods %v Ready within %s; %d not Ready (last list error: %v):\n%s",
				names, timeout, len(notReady), lastErr, e.diagnosePods(byName, notReady))
		case <-time.After(time.Second):
		}
	}
}

// diagnosePods describes the named pods and their last events.
func (e *env) diagnosePods(byName map[string]*corev1.Pod, names []string) string {
	var b strings.Builder
	for _, n := range names {
		p := byName[n]
		if p == nil {
			fmt.Fprintf(&b, "  pod %s: not found\n", n)
			continue
		}
		fmt.Fprintf(&b, "  %s\n", describePod(p))
		for _, ev := range e.podEvents(n, 6) {
			fmt.Fprintf(&b, "      event %s\n", ev)
		}
	}
	return b.String()
}

// describePod is one line: where the pod is and why it is not Ready.
func describePod(p *corev1.Pod) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("pod %s/%s node=%s phase=%s ip=%q", p.Namespace, p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP))
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			parts = append(parts, fmt.Sprintf("%s=%s(%s: %s)", c.Type, c.Status, c.Reason, oneLine(c.Message, 160)))
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			parts = append(parts, fmt.Sprintf("container %s waiting %s: %s", cs.Name, cs.State.Waiting.Reason, oneLine(cs.State.Waiting.Message, 200)))
		case cs.State.Terminated != nil:
			parts = append(parts, fmt.Sprintf("container %s terminated exit=%d %s: %s", cs.Name, cs.State.Terminated.ExitCode, cs.State.Terminated.Reason, oneLine(cs.State.Terminated.Message, 200)))
		case !cs.Ready:
			parts = append(parts, fmt.Sprintf("container %s running, not ready (restarts %d)", cs.Name, cs.RestartCount))
		}
	}
	return strings.Join(parts, "; ")
}

// podEvents returns the last n events about pod, oldest first.
func (e *env) podEvents(pod string, n int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := e.c.cs.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String(),
	})
	if err != nil {
		return []string{"(events: " + err.Error() + ")"}
	}
	sort.Slice(list.Items, func(i, j int) bool { return eventTime(&list.Items[i]).Before(eventTime(&list.Items[j])) })
	var out []string
	for _, ev := range list.Items {
		out = append(out, fmt.Sprintf("%s %s x%d: %s", ev.Type, ev.Reason, max(ev.Count, 1), oneLine(ev.Message, 240)))
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

func eventTime(ev *corev1.Event) time.Time {
	if !ev.LastTimestamp.IsZero() {
		return ev.LastTimestamp.Time
	}
	if !ev.EventTime.IsZero() {
		return ev.EventTime.Time
	}
	return ev.CreationTimestamp.Time
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// getPod re-reads a pod of the test's namespace.
func (e *env) getPod(ctx context.Context, name string) (*corev1.Pod, error) {
	return e.c.cs.CoreV1().Pods(e.ns).Get(ctx, name, metav1.GetOptions{})
}
