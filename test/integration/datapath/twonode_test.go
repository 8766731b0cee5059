package datapath

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/ovs/ovstest"
)

// underlay addressing between the two simulated nodes (RFC 2544 benchmark
// range, only inside the tests' namespaces).
type underlay struct {
	ip  netip.Addr
	mac string
}

// connectNodes joins two nodes with a veth pair "ul0" <-> "ul0". On the
// netdev datapath each end goes on a netdev bridge br-phy that holds the
// node's tunnel endpoint address: OVS userspace tunnelling routes and
// resolves neighbours itself and sends through that bridge. On the kernel
// datapath the address is on ul0 itself, the node's NIC, as in production.
func connectNodes(t *testing.T, n1, n2 *node, u1, u2 underlay) {
	t.Helper()
	n1.ovs.Exec(t, "ip", "link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", n2.ovs.NetNS)
	for _, x := range []struct {
		n    *node
		self underlay
		peer underlay
	}{{n1, u1, u2}, {n2, u2, u1}} {
		if ovstest.DatapathType() == ovstest.System {
			x.n.ovs.Exec(t, "ip", "link", "set", "ul0", "address", x.self.mac, "up")
			x.n.ovs.Exec(t, "ip", "addr", "add", x.self.ip.String()+"/24", "dev", "ul0")
			continue
		}
		x.n.ovs.Vsctl(t, "add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
			fmt.Sprintf("other_config:hwaddr=%q", x.self.mac), "--", "add-port", "br-phy", "ul0")
		x.n.ovs.Exec(t, "ip", "link", "set", "ul0", "arp", "off", "up")
		x.n.ovs.Exec(t, "ip", "addr", "add", x.self.ip.String()+"/24", "dev", "br-phy")
		x.n.ovs.Exec(t, "ip", "link", "set", "br-phy", "up")
		// Seed the tunnel neighbour cache: the first packet to an
		// unresolved endpoint would be lost otherwise.
		x.n.ovs.Appctl(t, "tnl/neigh/set", "br-phy", x.peer.ip.String(), x.peer.mac)
	}
}

// twoNodes is the layout of the two-node tests: node1 and node2, with pods
// from 10.192.0.10 and 10.192.0.74 in one /26 block each of the default
// subnet, joined by an underlay.
type twoNodes struct {
	n1, n2         *node
	block1, block2 netip.Prefix
	addr1, addr2   netip.Addr // the nodes' gw0 addresses
	u1, u2         underlay
}

// startTwoNodes starts node1 and node2 with tun0 of tunnelType and joins
// their underlay.
func startTwoNodes(t *testing.T, ctx context.Context, tunnelType string) *twoNodes {
	t.Helper()
	tn := &twoNodes{
		block1: netip.MustParsePrefix("10.192.0.0/26"), block2: netip.MustParsePrefix("10.192.0.64/26"),
		addr1: netip.MustParseAddr("10.192.0.2"), addr2: netip.MustParseAddr("10.192.0.66"),
		u1: underlay{netip.MustParseAddr("198.18.0.1"), "02:00:c6:12:00:01"},
		u2: underlay{netip.MustParseAddr("198.18.0.2"), "02:00:c6:12:00:02"},
	}
	tn.n1 = startNodeTunnel(t, ctx, netip.MustParseAddr("10.192.0.10"), tunnelType)
	tn.n2 = startNodeTunnel(t, ctx, netip.MustParseAddr("10.192.0.74"), tunnelType)
	connectNodes(t, tn.n1, tn.n2, tn.u1, tn.u2)
	return tn
}

// nodeSync runs the agent's NodeSync on both nodes with the layout's
// cluster view.
func (tn *twoNodes) nodeSync(t *testing.T, ctx context.Context) {
	t.Helper()
	view := agent.ClusterView{
		Subnets: []agent.SubnetView{{Name: "default", CIDR: defaultCIDR, Gateway: defaultGateway, NATOutgoing: true}},
		Blocks:  []agent.BlockView{{CIDR: tn.block1, Node: "node1"}, {CIDR: tn.block2, Node: "node2"}},
		NodeIPs: map[string]netip.Addr{"node1": tn.u1.ip, "node2": tn.u2.ip},
	}
	tn.n1.nodeSync(t, ctx, "node1", tn.addr1, view)
	tn.n2.nodeSync(t, ctx, "node2", tn.addr2, view)
}

// underlayDev is the interface that holds a node's underlay address.
func underlayDev() string {
	if ovstest.DatapathType() == ovstest.System {
		return "ul0"
	}
	return "br-phy"
}

// TestCrossNodePods runs two nodes, each with its pod block, joined by a
// VXLAN tunnel over a private underlay, and checks pod-to-pod ping and TCP
// across them through pipeline.TunnelFlows and TunnelSourceFlows.
func TestCrossNodePods(t *testing.T) {
	ctx := testCtx(t)
	tn := startTwoNodes(t, ctx, "vxlan")
	n1, n2, block1, block2, u1, u2 := tn.n1, tn.n2, tn.block1, tn.block2, tn.u1, tn.u2

	for _, x := range []struct {
		n      *node
		remote pipeline.RemoteBlock
	}{{n1, pipeline.RemoteBlock{CIDR: block2, NodeIP: u2.ip}}, {n2, pipeline.RemoteBlock{CIDR: block1, NodeIP: u1.ip}}} {
		flows := append(pipeline.TunnelFlows(x.remote), pipeline.TunnelSourceFlows(x.remote.NodeIP)...)
		if _, err := x.n.flows.SetAndSync(ctx, "tunnel/"+x.remote.CIDR.String(), flows); err != nil {
			t.Fatalf("tunnel flows: %v", err)
		}
	}

	a := n1.addPod(t, ctx, "pod-a")
	c := n2.addPod(t, ctx, "pod-c")
	if !block1.Contains(a.ip.Addr()) || !block2.Contains(c.ip.Addr()) {
		t.Fatalf("pod IPs %s, %s not in their node blocks %s, %s", a.ip, c.ip, block1, block2)
	}
	checkPodIface(t, a)
	checkPodIface(t, c)

	if err := a.ping(c.ip.Addr(), 5); err != nil {
		t.Fatalf("node1 -> node2: %v", err)
	}
	if err := c.ping(a.ip.Addr(), 5); err != nil {
		t.Fatalf("node2 -> node1: %v", err)
	}
	// Pod-MTU packets fit the tunnel (underlay MTU 1500 = pod MTU + 50).
	if err := dfPing(a.ns.Name, c.ip.Addr(), podMTU, 3); err != nil {
		t.Errorf("node1 -> node2: %v", err)
	}
	if err := dfPing(c.ns.Name, a.ip.Addr(), podMTU, 3); err != nil {
		t.Errorf("node2 -> node1: %v", err)
	}
	// The traffic really took the tunnel flow on both nodes.
	for i, n := range []*node{n1, n2} {
		if got := tunnelPackets(t, n); got == 0 {
			t.Errorf("node%d: tunnel flow matched no packet", i+1)
		}
	}
	echoServer(t, c, 8080)
	if err := tcpEcho(a, netip.AddrPortFrom(c.ip.Addr(), 8080)); err != nil {
		t.Fatalf("node1 -> node2: %v", err)
	}
	echoServer(t, a, 8081)
	if err := tcpEcho(c, netip.AddrPortFrom(a.ip.Addr(), 8081)); err != nil {
		t.Fatalf("node2 -> node1: %v", err)
	}
}

var nPackets = regexp.MustCompile(`n_packets=(\d+)`)

// tunnelPackets sums the packet counters of the node's tunnel flows.
func tunnelPackets(t *testing.T, n *node) int {
	t.Helper()
	return n.packetsMasked(t, pipeline.Cookie(pipeline.FeatureTunnel, 0), pipeline.CookieFeatMask)
}

// packets is the packet counter of the flows with exactly this cookie.
func (n *node) packets(t *testing.T, cookie uint64) int {
	t.Helper()
	return n.packetsMasked(t, cookie, ^uint64(0))
}

// packetsMasked sums the packet counters of the flows matching cookie/mask.
func (n *node) packetsMasked(t *testing.T, cookie, mask uint64) int {
	t.Helper()
	out := n.ovs.Ofctl(t, "dump-flows", n.ovs.MgmtSock(bridge), fmt.Sprintf("cookie=%#x/%#x", cookie, mask))
	sum := 0
	for _, m := range nPackets.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.Atoi(m[1])
		sum += v
	}
	return sum
}
