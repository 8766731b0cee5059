package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestNodeToPod: the path kubelet probes take. A netexec pod per node with
// an httpGet readiness probe must become Ready (kubelet -> pod), and from a
// hostNetwork pod on each node HTTP reaches every pod. Traffic the node
// originates towards pods must carry the node's own defaultnet address
// (design.md: gw0's primary address): inside the subnet, not the gateway,
// the same for every target, different per node.
func TestNodeToPod(t *testing.T) {
	e := setup(t, "node2pod")
	var specs []*corev1.Pod
	var targets, hosts []string
	for _, n := range e.nodes {
		p := netexecPod("pod-"+n.Name, n.Name)
		specs, targets = append(specs, p), append(targets, p.Name)
		h := hostNetPod("host-"+n.Name, n.Name)
		specs, hosts = append(specs, h), append(hosts, h.Name)
	}
	// createPods waits for Ready: the readiness probe passing is kubelet
	// reaching each pod from its node; on timeout it reports the probe events.
	pods := e.createPods(specs...)
	podIPs := map[string]string{}
	for _, tn := range targets {
		podIPs[pods[tn].Status.PodIP] = tn
	}

	type seen struct{ node, target, src string }
	var mu sync.Mutex
	var sources []seen
	var probes []probe
	for _, hn := range hosts {
		host := pods[hn]
		for _, tn := range targets {
			dst := pods[tn]
			from, to := "node "+host.Spec.NodeName, fmt.Sprintf("%s@%s", dst.Name, dst.Spec.NodeName)
			dstIP := dst.Status.PodIP
			probes = append(probes,
				probe{kind: "http :8080/hostname from the node's netns", from: from, to: to,
					expect: fmt.Sprintf("%q from %s", dst.Name, dstIP),
					run: func(ctx context.Context) (string, bool) {
						body, err := e.c.curl(ctx, host, hostContainer, fmt.Sprintf("http://%s:%d/hostname", dstIP, httpPort))
						if err != nil {
							return errText(err), false
						}
						return fmt.Sprintf("%q", body), body == dst.Name
					}},
				probe{kind: "http :8080/clientip: node source address", from: from, to: to,
					expect: fmt.Sprintf("the node's own address in %s (not %s, not a pod IP)", defaultSubnetCIDR, defaultGateway),
					run: func(ctx context.Context) (string, bool) {
						body, err := e.c.curl(ctx, host, hostContainer, fmt.Sprintf("http://%s:%d/clientip", dstIP, httpPort))
						if err != nil {
							return errText(err), false
						}
						src := hostOf(body)
						ok := inCIDR(src, defaultSubnetCIDR) && src != defaultGateway && podIPs[src] == ""
						if ok {
							mu.Lock()
							sources = append(sources, seen{host.Spec.NodeName, dst.Name, src})
							mu.Unlock()
						}
						return fmt.Sprintf("%s sees %q", dst.Name, body), ok
					}},
			)
		}
	}
	outs := runProbes(probes, probeWindow)
	for _, tn := range targets {
		outs = append(outs, outcome{probe: probe{kind: "kubelet httpGet readinessProbe", from: "node " + pods[tn].Spec.NodeName, to: tn,
			expect: "pod Ready"}, observed: "Ready", ok: true, attempts: 1})
	}

	// One source address per node, distinct across nodes.
	byNode := map[string]map[string][]string{}
	for _, s := range sources {
		if byNode[s.node] == nil {
			byNode[s.node] = map[string][]string{}
		}
		byNode[s.node][s.src] = append(byNode[s.node][s.src], s.target)
	}
	owner := map[string]string{}
	for _, n := range e.nodes {
		addrs := byNode[n.Name]
		var list []string
		for a, ts := range addrs {
			list = append(list, fmt.Sprintf("%s (to %s)", a, strings.Join(ts, ",")))
		}
		sort.Strings(list)
		ok := len(addrs) == 1
		var clash string
		for a := range addrs {
			if o, dup := owner[a]; dup {
				ok, clash = false, fmt.Sprintf("; also used by node %s", o)
			}
			owner[a] = n.Name
		}
		if len(addrs) == 0 {
			continue // the per-probe failures already say why
		}
		outs = append(outs, outcome{probe: probe{kind: "node source address is unique per node", from: "node " + n.Name, to: "all pods",
			expect: "one source address for every target, not shared with another node"},
			observed: strings.Join(list, ", ") + clash, ok: ok, attempts: 1})
	}
	reportProbes(t, "node -> pod", outs)
}
