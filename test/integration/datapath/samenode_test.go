package datapath

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/cni/api"
)

// flowsPerPod is the number of flows pipeline.PodFlows installs per pod.
const flowsPerPod = 5

// TestSameNodePods drives the agent's CNI handler like the CNI server does,
// for two pods on one node, and checks the result on the real datapath:
// interface configuration, ping and TCP between the pods, the pod flows,
// idempotent ADD, recovery from an ovs-vswitchd restart and DEL.
func TestSameNodePods(t *testing.T) {
	ctx := testCtx(t)
	n := startNode(t, ctx, netip.MustParseAddr("10.192.0.10"))
	a := n.addPod(t, ctx, "pod-a")
	b := n.addPod(t, ctx, "pod-b")

	if a.ip.String() != "10.192.0.10/16" || b.ip.String() != "10.192.0.11/16" {
		t.Fatalf("pod IPs %s, %s; want 10.192.0.10/16, 10.192.0.11/16", a.ip, b.ip)
	}
	checkPodIface(t, a)
	checkPodIface(t, b)

	portA, portB := n.ofport(t, a.hostIf), n.ofport(t, b.hostIf)
	for _, c := range []struct {
		name string
		port uint32
	}{{"pod-a", portA}, {"pod-b", portB}} {
		if got := n.podFlows(t, c.port); len(got) != flowsPerPod {
			t.Errorf("%s (ofport %d): %d pod flows, want %d:\n%s", c.name, c.port, len(got), flowsPerPod, strings.Join(got, "\n"))
		}
	}
	if got := n.podFlows(t, 0); len(got) != 2*flowsPerPod {
		t.Errorf("%d pod flows on br-int, want %d", len(got), 2*flowsPerPod)
	}
	totalFlows := len(n.flowLines(t, pipeline.CookieMagic, pipeline.CookieMagicMask))

	// L2 in br-int: ARP answered by OVS, then ICMP and TCP through conntrack.
	if err := a.ping(b.ip.Addr(), 5); err != nil {
		t.Fatal(err)
	}
	if err := b.ping(a.ip.Addr(), 5); err != nil {
		t.Fatal(err)
	}
	echoServer(t, b, 8080)
	if err := tcpEcho(a, netip.AddrPortFrom(b.ip.Addr(), 8080)); err != nil {
		t.Fatal(err)
	}
	// MTU: gw0 has the pod MTU (OVS mtu_request); full-size packets pass.
	n.checkGatewayMTU(t)
	if err := dfPing(a.ns.Name, b.ip.Addr(), podMTU, 3); err != nil {
		t.Error(err)
	}

	// A repeated ADD (runtime retry) keeps the address, port and flows.
	res, err := n.handler.Add(ctx, a.request(api.CommandAdd))
	if err != nil {
		t.Fatalf("second ADD: %v", err)
	}
	if got := res.IPs[0].Address.String(); got != a.ip.String() {
		t.Errorf("second ADD gave %s, first gave %s", got, a.ip)
	}
	if got := n.ofport(t, a.hostIf); got != portA {
		t.Errorf("second ADD moved the port: ofport %d, was %d", got, portA)
	}
	if got := n.podFlows(t, 0); len(got) != 2*flowsPerPod {
		t.Errorf("after second ADD: %d pod flows, want %d", len(got), 2*flowsPerPod)
	}

	// ovs-vswitchd restart: every flow is gone and traffic stops (secure
	// fail mode) until the agent re-installs its view.
	n.ovs.RestartVswitchd(t)
	if got := n.flowLines(t, pipeline.CookieMagic, pipeline.CookieMagicMask); len(got) != 0 {
		t.Fatalf("%d kubefay flows survived the restart", len(got))
	}
	if err := a.ping(b.ip.Addr(), 1); err == nil {
		t.Fatal("ping worked while br-int had no flows: the test does not exercise the pipeline")
	}
	n.resync(t, ctx, totalFlows)
	if got := n.podFlows(t, portA); len(got) != flowsPerPod {
		t.Errorf("after restart: pod-a has %d flows, want %d", len(got), flowsPerPod)
	}
	if err := a.ping(b.ip.Addr(), 10); err != nil {
		t.Fatalf("after ovs-vswitchd restart: %v", err)
	}
	if err := tcpEcho(a, netip.AddrPortFrom(b.ip.Addr(), 8080)); err != nil {
		t.Fatalf("after ovs-vswitchd restart: %v", err)
	}
	n.checkGatewayMTU(t)

	// DEL removes the flows, the port and the veth; a second DEL succeeds.
	if err := n.handler.Del(ctx, a.request(api.CommandDel)); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	// DEL answers once the flows and port are gone; the veth and address follow
	if err := n.handler.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := n.podFlows(t, portA); len(got) != 0 {
		t.Errorf("after DEL: pod-a still has flows:\n%s", strings.Join(got, "\n"))
	}
	if got := n.podFlows(t, portB); len(got) != flowsPerPod {
		t.Errorf("after DEL of pod-a: pod-b has %d flows, want %d", len(got), flowsPerPod)
	}
	if ports := strings.Fields(n.ovs.Vsctl(t, "list-ports", bridge)); slices.Contains(ports, a.hostIf) {
		t.Errorf("after DEL: port %s still on %s: %v", a.hostIf, bridge, ports)
	}
	if n.linkExists(a.hostIf) {
		t.Errorf("after DEL: veth %s still in the node netns", a.hostIf)
	}
	if err := n.handler.Del(ctx, a.request(api.CommandDel)); err != nil {
		t.Errorf("second DEL: %v", err)
	}
	// The freed address goes to the next pod.
	c := n.addPod(t, ctx, "pod-c")
	if c.ip != a.ip {
		t.Errorf("pod-c got %s, want the released %s", c.ip, a.ip)
	}
	if err := c.ping(b.ip.Addr(), 5); err != nil {
		t.Fatal(err)
	}
}
