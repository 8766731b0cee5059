package e2e

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestPodToExternalIsNATed: a pod on each node reaches the external host
// (outside the cluster) and the external host sees the pod's node address:
// egress is masqueraded. A hostNetwork pod per node runs the same request as
// a control: if that fails, the lab's external host is the problem, not the
// pod datapath.
func TestPodToExternalIsNATed(t *testing.T) {
	e := setup(t, "egress")
	var specs []*corev1.Pod
	for _, n := range e.nodes {
		specs = append(specs, netexecPod("pod-"+n.Name, n.Name), hostNetPod("host-"+n.Name, n.Name))
	}
	pods := e.createPods(specs...)
	url := fmt.Sprintf("http://%s:8080/clientip", externalHost)
	to := "external " + externalHost + ":8080"

	var probes []probe
	for _, n := range e.nodes {
		for _, src := range []struct {
			pod       *corev1.Pod
			container string
			label     string
		}{
			{pods["host-"+n.Name], hostContainer, "node " + n.Name + " (control)"},
			{pods["pod-"+n.Name], netexecContainer, fmt.Sprintf("pod-%s (%s)", n.Name, pods["pod-"+n.Name].Status.PodIP)},
		} {
			probes = append(probes, probe{kind: "http /clientip: source seen by the external host", from: src.label, to: to,
				expect: fmt.Sprintf("%s:<port> (node %s's address)", n.IP, n.Name),
				run: func(ctx context.Context) (string, bool) {
					body, err := e.c.curl(ctx, src.pod, src.container, url)
					if err != nil {
						return errText(err), false
					}
					return fmt.Sprintf("external host sees %q", body), hostOf(body) == n.IP
				}})
		}
	}
	reportProbes(t, "pod -> external", runProbes(probes, probeWindow))
}
