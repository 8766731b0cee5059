package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// serviceTries is how many new connections each Service probe makes: with
// two backends, the chance that kube-proxy's random choice never picks one
// of them is 2^-19.
const serviceTries = 20

// TestServiceClusterIP: from a client pod on node1, a ClusterIP with one
// backend per node answers from both (TCP and UDP, 20 connections each). The
// single-backend cases cover the un-DNAT trap of design.md: kube-proxy DNATs
// on the host to a backend on the SAME node, the connection enters OVS from
// gw0 with the client's pod IP as source, and the backend's reply must go
// back through gw0 to be un-DNATed. Also hairpin: a backend reaching itself
// through its own Service.
func TestServiceClusterIP(t *testing.T) {
	e := setup(t, "clusterip")
	n1, n2 := e.nodes[0], e.nodes[1]
	b1, b2 := netexecPod("backend-"+n1.Name, n1.Name), netexecPod("backend-"+n2.Name, n2.Name)
	for _, b := range []*corev1.Pod{b1, b2} {
		b.Labels["e2e.kubefay.io/role"] = "backend"
	}
	pods := e.createPods(b1, b2, netexecPod("client-"+n1.Name, n1.Name))
	b1, b2 = pods[b1.Name], pods[b2.Name]
	client := pods["client-"+n1.Name]

	both := e.createService("both", corev1.ServiceTypeClusterIP, map[string]string{"e2e.kubefay.io/role": "backend"}, b1, b2)
	local := e.createService("local", corev1.ServiceTypeClusterIP, map[string]string{podLabel: b1.Name}, b1)
	remote := e.createService("remote", corev1.ServiceTypeClusterIP, map[string]string{podLabel: b2.Name}, b2)

	type svcCase struct {
		client *corev1.Pod
		svc    *corev1.Service
		what   string
		want   []string // every backend that must answer; no other may
	}
	cases := []svcCase{
		{client, both, "2 backends, one per node", []string{b1.Name, b2.Name}},
		{client, local, "1 backend on the client's node (un-DNAT trap)", []string{b1.Name}},
		{client, remote, "1 backend on the other node", []string{b2.Name}},
		{b1, local, "hairpin: the backend through its own service", []string{b1.Name}},
	}
	var probes []probe
	for _, c := range cases {
		for _, proto := range []struct {
			name, dial string
			port       int
		}{{"tcp (http)", "http", svcHTTPPort}, {"udp", "udp", svcUDPPort}} {
			from := fmt.Sprintf("%s@%s", c.client.Name, c.client.Spec.NodeName)
			to := fmt.Sprintf("svc %s %s:%d", c.svc.Name, c.svc.Spec.ClusterIP, proto.port)
			probes = append(probes, probe{
				kind: fmt.Sprintf("%s x%d, new connection each", proto.name, serviceTries), from: from, to: to,
				expect: fmt.Sprintf("%s: all %d answered, by exactly %v", c.what, serviceTries, c.want),
				run: func(ctx context.Context) (string, bool) {
					hist, observed, err := e.spread(ctx, c.client, proto.dial, c.svc.Spec.ClusterIP, proto.port, serviceTries)
					if err != nil {
						return errText(err), false
					}
					return observed, answeredByExactly(hist, c.want, serviceTries)
				},
			})
		}
	}
	// A failing case costs up to 5 s per request; give each attempt room.
	outs := runProbesTimeout(probes, probeWindow, time.Duration(serviceTries*5+30)*time.Second)
	reportProbes(t, "pod -> ClusterIP", outs)

	// For the record: the source address the same-node backend sees.
	ctx, cancel := context.WithTimeout(context.Background(), probeAttempt)
	defer cancel()
	if body, err := e.c.curl(ctx, client, netexecContainer, fmt.Sprintf("http://%s:%d/clientip", local.Spec.ClusterIP, svcHTTPPort)); err == nil {
		t.Logf("client %s (%s) -> svc local -> %s sees client %s", client.Name, client.Status.PodIP, b1.Name, body)
	}
}

// answeredByExactly: total answers, each from a backend in want, and every
// backend in want answered at least once.
func answeredByExactly(hist map[string]int, want []string, total int) bool {
	n := 0
	for _, v := range hist {
		n += v
	}
	if n != total || len(hist) != len(want) {
		return false
	}
	w := append([]string(nil), want...)
	sort.Strings(w)
	var got []string
	for k := range hist {
		got = append(got, k)
	}
	sort.Strings(got)
	return strings.Join(got, ",") == strings.Join(w, ",")
}
