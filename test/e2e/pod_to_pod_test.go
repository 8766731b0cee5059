package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestPodToPodConnectivity: two netexec pods per node; every ordered pair
// of distinct pods (same node and cross node) talks HTTP and UDP and gets
// the target's hostname, the target sees the source pod's own IP (no NAT
// between pods), and ping works.
func TestPodToPodConnectivity(t *testing.T) {
	e := setup(t, "p2p")
	var specs []*corev1.Pod
	var names []string
	for _, n := range e.nodes {
		for _, s := range []string{"a", "b"} {
			p := netexecPod(n.Name+"-"+s, n.Name)
			specs, names = append(specs, p), append(names, p.Name)
		}
	}
	pods := e.createPods(specs...)
	label := func(p *corev1.Pod) string { return fmt.Sprintf("%s@%s", p.Name, p.Spec.NodeName) }

	var probes []probe
	for _, sn := range names {
		for _, dn := range names {
			if sn == dn {
				continue
			}
			src, dst := pods[sn], pods[dn]
			from, to := label(src), label(dst)
			where := "same node"
			if src.Spec.NodeName != dst.Spec.NodeName {
				where = "cross node"
			}
			dstIP, srcIP := dst.Status.PodIP, src.Status.PodIP
			probes = append(probes,
				probe{kind: "http :8080/hostname", from: from, to: to,
					expect: fmt.Sprintf("%q (%s, %s)", dst.Name, dstIP, where),
					run: func(ctx context.Context) (string, bool) {
						body, err := e.c.curl(ctx, src, netexecContainer, fmt.Sprintf("http://%s:%d/hostname", dstIP, httpPort))
						if err != nil {
							return errText(err), false
						}
						return fmt.Sprintf("%q", body), body == dst.Name
					}},
				probe{kind: "http :8080/clientip (source not NATed)", from: from, to: to,
					expect: fmt.Sprintf("%s sees the client as %s:<port>", dst.Name, srcIP),
					run: func(ctx context.Context) (string, bool) {
						body, err := e.c.curl(ctx, src, netexecContainer, fmt.Sprintf("http://%s:%d/clientip", dstIP, httpPort))
						if err != nil {
							return errText(err), false
						}
						return fmt.Sprintf("%s sees %q", dst.Name, body), hostOf(body) == srcIP
					}},
				probe{kind: "udp :8081 hostname", from: from, to: to,
					expect: fmt.Sprintf("UDP reply %q", dst.Name),
					run: func(ctx context.Context) (string, bool) {
						r, err := e.c.dial(ctx, src, "udp", "hostname", dstIP, udpPort, 1)
						if err != nil {
							return errText(err), false
						}
						return fmt.Sprintf("responses %q errors %q", r.Responses, r.Errors), len(r.Responses) == 1 && r.Responses[0] == dst.Name
					}},
				probe{kind: "udp :8081 clientip (source not NATed)", from: from, to: to,
					expect: fmt.Sprintf("%s sees the UDP client as %s:<port>", dst.Name, srcIP),
					run: func(ctx context.Context) (string, bool) {
						r, err := e.c.dial(ctx, src, "udp", "clientip", dstIP, udpPort, 1)
						if err != nil {
							return errText(err), false
						}
						return fmt.Sprintf("responses %q errors %q", r.Responses, r.Errors), len(r.Responses) == 1 && hostOf(r.Responses[0]) == srcIP
					}},
				probe{kind: "icmp ping", from: from, to: to,
					expect: fmt.Sprintf("echo replies from %s", dstIP),
					run: func(ctx context.Context) (string, bool) {
						out, _, err := e.c.execIn(ctx, src, netexecContainer, "ping", "-c", "2", "-W", "2", dstIP)
						if err != nil {
							return errText(err) + " / " + pingSummary(out), false
						}
						return pingSummary(out), true
					}},
			)
		}
	}
	reportProbes(t, "pod -> pod", runProbes(probes, probeWindow))
}

// pingSummary is the "N packets transmitted, M received" line of ping.
func pingSummary(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "transmitted") {
			return strings.TrimSpace(line)
		}
	}
	return oneLine(out, 200)
}
