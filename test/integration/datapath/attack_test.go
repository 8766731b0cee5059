package datapath

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// attack is one row of TestPodAttacks: what a sender emits (tagged with a
// fresh tag) and who must, or must not, receive it.
type attack struct {
	name string
	from *capture // the sender's interface: proves the packets left it
	send func(t *testing.T, tag string)
	// match picks the frames that count as "arrived" (default: a received
	// frame carrying the tag).
	match  func(tag string) func(frame) bool
	to     []*capture      // must receive it (controls)
	never  []*capture      // must not receive it
	socks  []*udpSocket    // UDP sockets that must not receive it
	dropAt *pipeline.Table // node1's table that drops it ...
	// ... in the flow whose dump contains dropFlow (default: the table miss)
	dropFlow string
	// known names an open defect: what gets through skips the row
	// instead of failing it.
	known string
}

// TestPodAttacks: a hostile pod (a, root in its netns: CAP_NET_RAW and
// NET_ADMIN) on node1 attacks b on node1 and c on node2 on the real
// datapath, both nodes set up by the agent's NodeSync. Every attack must be
// blocked; each family has a control that passes; afterwards normal traffic
// still works.
func TestPodAttacks(t *testing.T) {
	ctx := testCtx(t)
	tn := startTwoNodes(t, ctx, "vxlan")
	tn.nodeSync(t, ctx)
	n1, n2, addr1 := tn.n1, tn.n2, tn.addr1

	a := n1.addPod(t, ctx, "attacker")
	b := n1.addPod(t, ctx, "victim")
	c := n2.addPod(t, ctx, "pod-c")
	macA, macB := podMAC(t, a), podMAC(t, b)
	ipA, ipB, ipC := a.ip.Addr(), b.ip.Addr(), c.ip.Addr()
	unused := netip.MustParseAddr("10.192.0.50") // in node1's block, no pod
	llA, llB := netip.MustParseAddr("fe80::a"), netip.MustParseAddr("fe80::b")
	for _, x := range []struct {
		p  *pod
		ll netip.Addr
	}{{a, llA}, {b, llB}} { // IPv6 on in both pods (off by default)
		run(t, x.p.ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.eth0.disable_ipv6=0")
		run(t, x.p.ns, "ip", "-6", "addr", "add", x.ll.String()+"/64", "dev", "eth0", "nodad")
	}

	capA := startCapture(t, a.ns, "eth0", "attacker a")
	capB := startCapture(t, b.ns, "eth0", "victim b")
	capC := startCapture(t, c.ns, "eth0", "pod c (node2)")
	capGW := startCapture(t, n1.netns(), "gw0", "node1 gw0")
	dhcpB := listenAny(t, b.ns, 67)
	dhcpClientB := listenAny(t, b.ns, 68)
	dhcpNode := listenAny(t, n1.netns(), 67)
	const port = 9999 // listeners, so that no ICMP port unreachable fails the senders
	for _, p := range []*pod{a, b, c} {
		listenAny(t, p.ns, port)
	}

	// Traffic works, and node1 has learned b's MAC (the ARP attack must not
	// change it).
	for _, p := range []struct{ from, to *pod }{{a, b}, {a, c}, {c, b}} {
		if err := p.from.ping(p.to.ip.Addr(), 5); err != nil {
			t.Fatal(err)
		}
	}
	run(t, n1.netns(), "ping", "-n", "-c", "1", "-W", "2", ipB.String())
	if err := dfPing(n1.ovs.NetNS, ipB, podMTU, 3); err != nil { // node -> pod at the pod MTU
		t.Error(err)
	}
	// Static neighbours: spoofed sources make a's kernel ARP from the
	// spoofed address, which the guard drops too; the attacks must not
	// depend on that.
	staticNeighbours := func(t *testing.T) { // a MAC change flushes them
		for _, n := range []struct {
			ip  netip.Addr
			mac net.HardwareAddr
		}{{ipB, macB}, {ipC, pipeline.RouterMAC}, {llB, macB}} {
			run(t, a.ns, "ip", "neigh", "replace", n.ip.String(), "lladdr", n.mac.String(), "dev", "eth0", "nud", "permanent")
		}
	}
	staticNeighbours(t)
	flowsBefore := len(n1.flowLines(t, pipeline.CookieMagic, pipeline.CookieMagicMask))

	udpFrom := func(p *pod, src netip.Addr, dst netip.Addr) func(*testing.T, string) {
		return func(t *testing.T, tag string) {
			if err := sendUDP(p.ns.Do, src, netip.AddrPortFrom(dst, port), []byte(tag)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// spoofUDP adds src to a's eth0 for the duration of the send.
	spoofUDP := func(src, dst netip.Addr) func(*testing.T, string) {
		return func(t *testing.T, tag string) {
			run(t, a.ns, "ip", "addr", "add", src.String()+"/32", "dev", "eth0")
			defer run(t, a.ns, "ip", "addr", "del", src.String()+"/32", "dev", "eth0")
			udpFrom(a, src, dst)(t, tag)
		}
	}
	spoofPing := func(src, dst netip.Addr) func(*testing.T, string) {
		return func(t *testing.T, tag string) {
			run(t, a.ns, "ip", "addr", "add", src.String()+"/32", "dev", "eth0")
			defer run(t, a.ns, "ip", "addr", "del", src.String()+"/32", "dev", "eth0")
			_ = exec.Command("ip", "netns", "exec", a.ns.Name, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "1",
				"-I", src.String(), "-p", fmt.Sprintf("%x", tag), dst.String()).Run() // fails: no answer
		}
	}
	// withMAC runs send while a's eth0 has mac.
	withMAC := func(mac net.HardwareAddr, send func(*testing.T, string)) func(*testing.T, string) {
		return func(t *testing.T, tag string) {
			run(t, a.ns, "ip", "link", "set", "eth0", "address", mac.String())
			defer staticNeighbours(t)
			defer run(t, a.ns, "ip", "link", "set", "eth0", "address", macA.String())
			staticNeighbours(t)
			send(t, tag)
		}
	}
	raw := func(frames func(tag string) [][]byte) func(*testing.T, string) {
		return func(t *testing.T, tag string) {
			if err := sendFrames(a.ns, "eth0", frames(tag)...); err != nil {
				t.Fatal(err)
			}
		}
	}
	claimsB := func(string) func(frame) bool { return arpClaim(ipB, macA) }
	ipv6FromA := func(string) func(frame) bool {
		return func(f frame) bool { return !f.out && f.ethType() == unix.ETH_P_IPV6 && bytes.Equal(f.ethSrc(), macA) }
	}
	echo6 := func(tag string) []byte { return append([]byte{0, 1, 0, 1}, tag...) } // id, seq, data
	nd := func(target netip.Addr, opts ...byte) []byte {
		return append(append([]byte{0, 0, 0, 0}, target.AsSlice()...), opts...)
	}
	sllA := append([]byte{1, 1}, macA...) // source link-layer address option
	tllA := append([]byte{2, 1}, macA...) // target link-layer address option
	allNodes := netip.MustParseAddr("ff02::1")
	discover := raw(func(tag string) [][]byte {
		return [][]byte{udp4Frame(broadcastMAC, macA, netip.IPv4Unspecified(), netip.MustParseAddr("255.255.255.255"), 68, 67, dhcp4(1, 1, macA, tag))}
	})
	gwSide := []*capture{capB, capC, capGW}

	attacks := []attack{
		// 1. IP spoofing.
		{name: "control: UDP a->c from a's own IP", from: capA, send: udpFrom(a, ipA, ipC), to: []*capture{capC}},
		{name: "control: UDP a->b from a's own IP", from: capA, send: udpFrom(a, ipA, ipB), to: []*capture{capB}},
		{name: "UDP a->c from b's IP", from: capA, send: spoofUDP(ipB, ipC), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->b from b's IP (raw)", from: capA, send: raw(func(tag string) [][]byte {
			return [][]byte{udp4Frame(macB, macA, ipB, ipB, port, port, []byte(tag))}
		}), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->c from an unused subnet IP", from: capA, send: spoofUDP(unused, ipC), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->b from an unused subnet IP", from: capA, send: spoofUDP(unused, ipB), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->b from node1's address", from: capA, send: spoofUDP(addr1, ipB), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->c from node1's address", from: capA, send: spoofUDP(addr1, ipC), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "ping a->c from the subnet gateway IP", from: capA, send: spoofPing(defaultGateway, ipC), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "ping a->c from b's IP", from: capA, send: spoofPing(ipB, ipC), never: gwSide, dropAt: &pipeline.Classifier},

		// 2. MAC spoofing.
		{name: "UDP a->b with b's MAC", from: capA, send: withMAC(macB, udpFrom(a, ipA, ipB)), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->c with b's MAC", from: capA, send: withMAC(macB, udpFrom(a, ipA, ipC)), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "UDP a->c with a random MAC", from: capA, send: withMAC(net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}, udpFrom(a, ipA, ipC)), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "no takeover: c->b while a has b's MAC reaches b, not a", from: capC,
			send: withMAC(macB, func(t *testing.T, tag string) {
				udpFrom(a, ipA, ipB)(t, "kf"+randID()[:8]) // a sends with b's MAC first
				udpFrom(c, ipC, ipB)(t, tag)
			}), to: []*capture{capB}, never: []*capture{capA}},
		{name: "control: a's MAC restored, UDP a->b", from: capA, send: udpFrom(a, ipA, ipB), to: []*capture{capB}},

		// 3. ARP poisoning: "b's IP is at a's MAC".
		{name: "gratuitous ARP request for b's IP", from: capA, match: claimsB, send: raw(func(string) [][]byte {
			return [][]byte{arpFrame(broadcastMAC, macA, 1, macA, ipB, make(net.HardwareAddr, 6), ipB)}
		}), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "gratuitous ARP reply for b's IP", from: capA, match: claimsB, send: raw(func(string) [][]byte {
			return [][]byte{arpFrame(broadcastMAC, macA, 2, macA, ipB, broadcastMAC, ipB)}
		}), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "ARP reply for b's IP to node1's gw0", from: capA, match: claimsB, send: raw(func(string) [][]byte {
			return [][]byte{arpFrame(n1.info.GatewayMAC, macA, 2, macA, ipB, n1.info.GatewayMAC, addr1)}
		}), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "control: after the ARP attacks c->b reaches b, not a", from: capC, send: udpFrom(c, ipC, ipB),
			to: []*capture{capB}, never: []*capture{capA}},
		{name: "control: after the ARP attacks node1->b reaches b, not a", from: capGW, send: func(t *testing.T, tag string) {
			if err := sendUDP(n1.netns().Do, netip.Addr{}, netip.AddrPortFrom(ipB, port), []byte(tag)); err != nil {
				t.Fatal(err)
			}
		}, to: []*capture{capB}, never: []*capture{capA}},

		// 4. IPv6 / ND (no control: kubefay is IPv4-only; IPv4 working is the control).
		{name: "ICMPv6 echo a->b link-local (ping6)", from: capA, match: ipv6FromA, send: func(t *testing.T, tag string) {
			_ = exec.Command("ip", "netns", "exec", a.ns.Name, "ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "1",
				"-p", fmt.Sprintf("%x", tag), llB.String()+"%eth0").Run()
			raw(func(tag string) [][]byte { return [][]byte{icmp6Frame(macB, macA, llA, llB, 128, echo6(tag))} })(t, tag)
		}, never: gwSide, dropAt: &pipeline.Classifier},
		{name: "ND neighbor solicitation for b", from: capA, match: ipv6FromA, send: raw(func(string) [][]byte {
			g := solicitedNode(llB)
			return [][]byte{icmp6Frame(multicastMAC(g), macA, llA, g, 135, nd(llB, sllA...))}
		}), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "ND unsolicited advertisement: b's address at a's MAC", from: capA, match: ipv6FromA, send: raw(func(string) [][]byte {
			na := nd(llB, tllA...)
			na[0] = 0x20 // override
			return [][]byte{icmp6Frame(multicastMAC(allNodes), macA, llA, allNodes, 136, na)}
		}), never: gwSide, dropAt: &pipeline.Classifier},
		{name: "router advertisement", from: capA, match: ipv6FromA, send: raw(func(string) [][]byte {
			ra := append([]byte{64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}, sllA...) // hop limit, lifetime 1800 s
			return [][]byte{icmp6Frame(multicastMAC(allNodes), macA, llA, allNodes, 134, ra)}
		}), never: gwSide, dropAt: &pipeline.Classifier},

		// 5. DHCP.
		{name: "DHCPDISCOVER 0.0.0.0:68 -> 255.255.255.255:67", from: capA, send: discover,
			never: gwSide, socks: []*udpSocket{dhcpB}, dropAt: &pipeline.Classifier},
		// on netdev the node's kernel also receives what a pod sends on the
		// host end of its veth (OVS reads it with AF_PACKET): nodenet drops it
		{name: "DHCPDISCOVER 0.0.0.0:68 -> node1's own sockets", from: capA, send: discover, socks: []*udpSocket{dhcpNode}},
		{name: "DHCPDISCOVER from a's IP to 255.255.255.255 via the router MAC", from: capA, send: raw(func(tag string) [][]byte {
			return [][]byte{udp4Frame(pipeline.RouterMAC, macA, ipA, netip.MustParseAddr("255.255.255.255"), 68, 67, dhcp4(1, 1, macA, tag))}
		}), never: gwSide, socks: []*udpSocket{dhcpB, dhcpNode}, dropAt: &pipeline.L3Forwarding, dropFlow: "nw_dst=255.255.255.255 "},
		{name: "DHCPOFFER broadcast from a's IP", from: capA, send: raw(func(tag string) [][]byte {
			return [][]byte{udp4Frame(broadcastMAC, macA, ipA, netip.MustParseAddr("255.255.255.255"), 67, 68, dhcp4(2, 2, macB, tag))}
		}), never: gwSide, socks: []*udpSocket{dhcpClientB}, dropAt: &pipeline.L2Forwarding},
		{name: "DHCPOFFER to b from the gateway's IP", from: capA, send: raw(func(tag string) [][]byte {
			return [][]byte{udp4Frame(macB, macA, defaultGateway, ipB, 67, 68, dhcp4(2, 2, macB, tag))}
		}), never: gwSide, socks: []*udpSocket{dhcpClientB}, dropAt: &pipeline.Classifier},
	}

	for _, tc := range attacks {
		t.Run(tc.name, func(t *testing.T) { runAttack(t, n1, tc) })
	}

	// No damage: flows unchanged, normal traffic both ways, TCP across nodes.
	if got := len(n1.flowLines(t, pipeline.CookieMagic, pipeline.CookieMagicMask)); got != flowsBefore {
		t.Errorf("node1 has %d kubefay flows after the attacks, had %d", got, flowsBefore)
	}
	for _, p := range []struct{ from, to *pod }{{a, b}, {b, a}, {a, c}, {c, a}} {
		if err := p.from.ping(p.to.ip.Addr(), 3); err != nil {
			t.Errorf("after the attacks: %v", err)
		}
	}
	echoServer(t, c, 8080)
	if err := tcpEcho(a, netip.AddrPortFrom(ipC, 8080)); err != nil {
		t.Errorf("after the attacks: %v", err)
	}
}

// runAttack sends one row's packets and checks who got them.
func runAttack(t *testing.T, n *node, tc attack) {
	tag := "kf" + randID()[:8]
	match := func(f frame) bool { return !f.out && bytes.Contains(f.data, []byte(tag)) }
	if tc.match != nil {
		match = tc.match(tag)
	}
	if tc.dropFlow == "" {
		tc.dropFlow = " priority=0 "
	}
	var dropsBefore int
	if tc.dropAt != nil {
		dropsBefore = n.flowPackets(t, *tc.dropAt, tc.dropFlow)
	}
	sentBefore := tc.from.count(sentBy(match))
	start := time.Now()
	tc.send(t, tag)
	if got := tc.from.count(sentBy(match)) - sentBefore; got == 0 {
		t.Fatalf("%s did not send the packets: the row tests nothing", tc.from.name)
	}
	for _, r := range tc.to {
		for r.count(match) == 0 && time.Since(start) < 3*time.Second {
			time.Sleep(50 * time.Millisecond)
		}
		if r.count(match) == 0 {
			t.Errorf("%s received nothing (control must pass)", r.name)
		}
	}
	time.Sleep(time.Until(start.Add(time.Second))) // what is blocked never comes
	var got []string
	for _, r := range tc.never {
		if k := r.count(match); k > 0 {
			got = append(got, fmt.Sprintf("%s: %d frames", r.name, k))
		}
	}
	for _, s := range tc.socks {
		if s.received(tag) {
			got = append(got, fmt.Sprintf("UDP socket %s", s.addr))
		}
	}
	if len(got) > 0 && tc.known != "" {
		t.Skipf("got through: %s; %s", strings.Join(got, "; "), tc.known)
	}
	if len(got) > 0 {
		t.Errorf("got through: %s", strings.Join(got, "; "))
	}
	if tc.dropAt != nil {
		d := n.flowPackets(t, *tc.dropAt, tc.dropFlow) - dropsBefore
		if d == 0 {
			t.Errorf("node1's %s drop flow %q counted nothing", tc.dropAt.Name, tc.dropFlow)
		}
		t.Logf("dropped by node1's %s (table %d) flow %q: +%d packets", tc.dropAt.Name, tc.dropAt.ID, strings.TrimSpace(tc.dropFlow), d)
	}
}

// sentBy turns a "received" match into the same match for sent frames.
func sentBy(match func(frame) bool) func(frame) bool {
	return func(f frame) bool { return f.out && match(frame{data: f.data}) }
}

// flowPackets is the packet counter of the flow of table whose dump
// contains match.
func (n *node) flowPackets(t *testing.T, table pipeline.Table, match string) int {
	t.Helper()
	out := n.ovs.Ofctl(t, "dump-flows", n.ovs.MgmtSock(bridge), fmt.Sprintf("table=%d", table.ID))
	for _, l := range strings.Split(out, "\n") {
		if m := nPackets.FindStringSubmatch(l); m != nil && strings.Contains(l, match) {
			v, _ := strconv.Atoi(m[1])
			return v
		}
	}
	t.Fatalf("no flow %q in table %d:\n%s", match, table.ID, out)
	return 0
}

// podMAC is the MAC of p's eth0.
func podMAC(t *testing.T, p *pod) net.HardwareAddr {
	t.Helper()
	mac, err := net.ParseMAC(strings.TrimSpace(run(t, p.ns, "cat", "/sys/class/net/eth0/address")))
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// run runs a command inside ns and returns its output.
func run(t *testing.T, ns *podiftest.NetNS, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), ns.Name, err, out)
	}
	return string(out)
}

// udpSocket collects what a UDP socket receives.
type udpSocket struct {
	addr string
	got  chan string
}

// listenAny opens a UDP socket on 0.0.0.0:port inside ns (it receives
// broadcasts too); closed in t.Cleanup.
func listenAny(t *testing.T, ns *podiftest.NetNS, port int) *udpSocket {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{Port: port})
		return err
	}); err != nil {
		t.Fatalf("listen on :%d in %s: %v", port, ns.Name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	in := &udpSocket{got: make(chan string, 64), addr: fmt.Sprintf("%s :%d", ns.Name, port)}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(in.got)
				return
			}
			in.got <- string(buf[:n])
		}
	}()
	return in
}

// received reports whether a datagram containing tag is queued (and
// drains the queue).
func (in *udpSocket) received(tag string) bool {
	found := false
	for {
		select {
		case s, ok := <-in.got:
			if !ok {
				return found
			}
			found = found || strings.Contains(s, tag)
		default:
			return found
		}
	}
}
