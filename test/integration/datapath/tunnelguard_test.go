package datapath

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/nodenet"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// netns is the node's network namespace (where its OVS, gw0 and host stack live).
func (n *node) netns() *podiftest.NetNS {
	return &podiftest.NetNS{Name: n.ovs.NetNS, Path: filepath.Join(podiftest.NetNSDir, n.ovs.NetNS)}
}

// nodeSync replaces the harness's node flows with what the agent's NodeSync
// derives from v, host side included: nodenet applied in the node's netns
// (gw0 addresses, routes, forwarding, the nftables table with masquerade).
func (n *node) nodeSync(t *testing.T, ctx context.Context, name string, addr netip.Addr, v agent.ClusterView) {
	t.Helper()
	n.flows.Set("base", nil)
	n.flows.Set("subnet/default", nil)
	ns := &agent.NodeSync{Node: name, GatewayPort: "gw0", GatewayMAC: n.info.GatewayMAC, NodeAddress: addr,
		MTU: podMTU, Flows: n.flows,
		HostNetwork: func(ctx context.Context, d nodenet.Desired) error {
			return n.netns().Do(func() error {
				r, err := nodenet.NewReconciler()
				if err != nil {
					return err
				}
				return r.Apply(ctx, d)
			})
		}}
	if err := ns.Sync(ctx, v); err != nil {
		t.Fatalf("%s: node sync: %v", name, err)
	}
}

// TestForgedTunnelPackets: a pod, or any host on the underlay that is not a
// node, must not be able to inject packets into another node's br-int by
// sending it hand-made VXLAN/Geneve datagrams (tun0 is remote_ip=flow). The
// forged inner packet claims node2's own gw0 address as source, which
// private subnets and NetworkPolicy ingress let through, and goes to a pod on
// node2 that listens on UDP. Both nodes run the agent's NodeSync (flows and
// host network, as in production). Controls: the same inner packet sent by a
// real node's address and plain pod-to-pod UDP do arrive.
func TestForgedTunnelPackets(t *testing.T) {
	for _, tunnelType := range []string{"vxlan", "geneve"} {
		t.Run(tunnelType, func(t *testing.T) { testForgedTunnelPackets(t, tunnelType) })
	}
}

func testForgedTunnelPackets(t *testing.T, tunnelType string) {
	ctx := testCtx(t)
	tn := startTwoNodes(t, ctx, tunnelType)
	n1, n2, addr2, u1, u2 := tn.n1, tn.n2, tn.addr2, tn.u1, tn.u2
	stranger := netip.MustParseAddr("198.18.0.9") // on the underlay, not a node
	n1.ovs.Exec(t, "ip", "addr", "add", stranger.String()+"/24", "dev", underlayDev())
	tn.nodeSync(t, ctx)

	a := n1.addPod(t, ctx, "pod-a")
	c := n2.addPod(t, ctx, "pod-c")
	const port = 9999
	inbox := listenAny(t, c.ns, port)
	// Cross-node traffic works (and teaches both sides the ARP answers).
	if err := a.ping(c.ip.Addr(), 5); err != nil {
		t.Fatalf("node1 -> node2: %v", err)
	}

	tunnelDst := netip.AddrPortFrom(u2.ip, uint16(tunnelPort(tunnelType)))
	forged := func(tag string) []byte {
		return append(tunnelHeader(tunnelType, 0),
			innerUDPFrame(addr2, c.ip.Addr(), port, []byte(tag))...)
	}
	for _, tc := range []struct {
		name   string
		do     func(func() error) error // the sender's namespace
		local  netip.Addr               // source address, if chosen
		dst    netip.AddrPort
		forged bool // a tunnel datagram, else the plain inner payload
		want   bool
		// ovsDrops is what node2's unknown-source drop counts: the pod's
		// datagrams are masqueraded to node1's address, so only node1's
		// nftables can stop them (they never reach node2).
		ovsDrops int
	}{
		{"plain UDP from a pod on node1 (control)", a.ns.Do, netip.Addr{}, netip.AddrPortFrom(c.ip.Addr(), port), false, true, 0},
		{"forged from node1's underlay address (control)", n1.netns().Do, u1.ip, tunnelDst, true, true, 0},
		{"forged from an underlay address of no node", n1.netns().Do, stranger, tunnelDst, true, false, 3},
		{"forged from a pod on node1", a.ns.Do, netip.Addr{}, tunnelDst, true, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := fmt.Sprintf("kubefay-%s-%d", tunnelType, time.Now().UnixNano())
			payload := []byte(tag)
			if tc.forged {
				payload = forged(tag)
			}
			before := n2.packets(t, pipeline.CookieUnknownTunnelSource)
			if err := sendUDP(tc.do, tc.local, tc.dst, payload); err != nil {
				t.Fatalf("send to %s: %v", tc.dst, err)
			}
			if got := inbox.waitFor(tag, 2*time.Second); got != tc.want {
				t.Errorf("pod on node2 received=%v, want %v (sent to %s, forged=%v)", got, tc.want, tc.dst, tc.forged)
			}
			if d := n2.packets(t, pipeline.CookieUnknownTunnelSource) - before; d != tc.ovsDrops {
				t.Errorf("node2 dropped %d packets from unknown tunnel sources, want %d", d, tc.ovsDrops)
			}
		})
	}

	echoServer(t, c, 8080)
	if err := tcpEcho(a, netip.AddrPortFrom(c.ip.Addr(), 8080)); err != nil {
		t.Fatalf("node1 -> node2 after the forged packets: %v", err)
	}
}
