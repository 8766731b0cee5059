package podif

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
	"github.com/kubefay/kubefay/pkg/netconv"
)

// lab is a host namespace (where host ends go) for one test.
type lab struct {
	t    *testing.T
	host *podiftest.NetNS
	p    *Plumber
}

func newLab(t *testing.T) *lab {
	t.Helper()
	podiftest.Require(t)
	host := podiftest.NewNetNS(t, "kfh")
	return &lab{t: t, host: host, p: &Plumber{HostNetNSPath: host.Path}}
}

func cidr(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// handle opens a netlink handle in ns, closed at the end of the test.
func handle(t testing.TB, ns *podiftest.NetNS) *netlink.Handle {
	t.Helper()
	nsh, err := netns.GetFromPath(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func (l *lab) spec(pod *podiftest.NetNS, id, ip, gw string) PodIfaceSpec {
	return PodIfaceSpec{
		NetNSPath:  pod.Path,
		HostIfName: HostIfName(id, "eth0"),
		MTU:        1400,
		IP:         cidr(l.t, ip),
		Gateway:    netip.MustParseAddr(gw),
	}
}

func TestConfigureInsidePodNetNS(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	spec := l.spec(pod, "c1", "10.200.1.5/24", "10.200.1.1")
	spec.Routes = []Route{{Dst: cidr(t, "10.96.0.0/12"), GW: netip.MustParseAddr("10.200.1.1")}, {Dst: cidr(t, "10.201.0.0/16")}}
	spec.DisableTxChecksum = true
	res, err := l.p.Configure(context.Background(), spec)
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if res.Reused || res.PodIfName != "eth0" || res.HostIfName != spec.HostIfName || res.PodMAC.String() != "0a:58:0a:c8:01:05" {
		t.Errorf("result %+v", res)
	}

	ph := handle(t, pod)
	eth0, err := ph.LinkByName("eth0")
	if err != nil {
		t.Fatalf("eth0 not in pod netns: %v", err)
	}
	a := eth0.Attrs()
	if eth0.Type() != "veth" || a.MTU != 1400 || a.HardwareAddr.String() != "0a:58:0a:c8:01:05" || a.RawFlags&unix.IFF_UP == 0 || a.Index != res.PodIfIndex {
		t.Errorf("eth0: type %s MTU %d MAC %s flags %#x index %d", eth0.Type(), a.MTU, a.HardwareAddr, a.RawFlags, a.Index)
	}
	if lo, err := ph.LinkByName("lo"); err != nil || lo.Attrs().RawFlags&unix.IFF_UP == 0 {
		t.Errorf("lo not up: %v", err)
	}
	addrs, err := ph.AddrList(eth0, netlink.FAMILY_V4)
	if err != nil || len(addrs) != 1 || addrs[0].IPNet.String() != "10.200.1.5/24" {
		t.Errorf("addresses %v %v", addrs, err)
	}
	routes, err := ph.RouteList(eth0, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range routes {
		got = append(got, r.String())
	}
	for _, w := range []Route{
		{Dst: cidr(t, "0.0.0.0/0"), GW: netip.MustParseAddr("10.200.1.1")},
		{Dst: cidr(t, "10.96.0.0/12"), GW: netip.MustParseAddr("10.200.1.1")},
		{Dst: cidr(t, "10.201.0.0/16")},
	} {
		if !hasRoute(routes, w) {
			t.Errorf("missing route %s via %s in %v", &w.Dst, w.GW, got)
		}
	}
	var txOn bool
	if err := pod.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		txOn, err = txChecksum(fd, "eth0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if txOn {
		t.Error("tx-checksumming still on")
	}
	if _, err := exec.LookPath("ethtool"); err == nil {
		out, err := exec.Command("ip", "netns", "exec", pod.Name, "ethtool", "-k", "eth0").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "tx-checksumming: off") {
			t.Errorf("ethtool -k eth0 disagrees: %v\n%s", err, out)
		}
	}

	hh := handle(t, l.host)
	hl, err := hh.LinkByName(spec.HostIfName)
	if err != nil {
		t.Fatalf("host end: %v", err)
	}
	ha := hl.Attrs()
	if ha.RawFlags&unix.IFF_NOARP == 0 || ha.RawFlags&unix.IFF_UP == 0 || ha.MTU != 1400 || ha.Index != res.HostIfIndex ||
		ha.HardwareAddr.String() != res.HostMAC.String() {
		t.Errorf("host end flags %#x MTU %d index %d MAC %s, result %+v", ha.RawFlags, ha.MTU, ha.Index, ha.HardwareAddr, res)
	}
	if v6, _ := hh.AddrList(hl, netlink.FAMILY_V6); len(v6) != 0 {
		t.Errorf("host end has IPv6 addresses %v", v6)
	}
	var sysctl []byte
	if err := l.host.Do(func() (err error) {
		sysctl, err = os.ReadFile("/proc/sys/net/ipv6/conf/" + spec.HostIfName + "/disable_ipv6")
		return err
	}); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	} else if err == nil && strings.TrimSpace(string(sysctl)) != "1" {
		t.Errorf("disable_ipv6 = %q on host end", sysctl)
	}
	if _, err := hh.LinkByName("eth0"); err == nil {
		t.Error("an eth0 appeared in the host namespace")
	}
	if err := l.p.Check(context.Background(), spec); err != nil {
		t.Errorf("Check after Configure: %v", err)
	}
}

func TestConfigureIsIdempotent(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	spec := l.spec(pod, "c2", "10.200.2.5/24", "10.200.2.1")
	first, err := l.p.Configure(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.p.Configure(context.Background(), spec)
	if err != nil {
		t.Fatalf("repeated Configure: %v", err)
	}
	if !again.Reused || again.HostIfIndex != first.HostIfIndex || again.PodIfIndex != first.PodIfIndex {
		t.Errorf("repeat did not reuse: first %+v again %+v", first, again)
	}
	// A repeat with another IP and MTU converges on the new spec.
	spec.IP = cidr(t, "10.200.2.9/24")
	spec.MAC = nil
	spec.MTU = 1300
	if _, err := l.p.Configure(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	if err := l.p.Check(context.Background(), spec); err != nil {
		t.Errorf("Check after re-Configure: %v", err)
	}
	ph := handle(t, pod)
	eth0, _ := ph.LinkByName("eth0")
	if addrs, _ := ph.AddrList(eth0, netlink.FAMILY_V4); len(addrs) != 1 || addrs[0].IP.String() != "10.200.2.9" {
		t.Errorf("addresses after IP change %v", addrs)
	}

	// A host end of that name wired to another namespace is stale: replaced.
	other := podiftest.NewNetNS(t, "kfp")
	spec2 := l.spec(other, "c2", "10.200.2.5/24", "10.200.2.1")
	res, err := l.p.Configure(context.Background(), spec2)
	if err != nil {
		t.Fatalf("Configure over a stale pair: %v", err)
	}
	if res.Reused {
		t.Error("stale pair reused")
	}
	if _, err := ph.LinkByName("eth0"); err == nil {
		t.Error("old pod end survived the replacement")
	}
}

func TestConfigureErrorsLeaveNothing(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	ph := handle(t, pod)
	// eth0 already taken in the pod by something else.
	la := netlink.NewLinkAttrs()
	la.Name = "eth0"
	if err := ph.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "other", PeerTxQLen: -1}); err != nil {
		t.Fatal(err)
	}
	spec := l.spec(pod, "c3", "10.200.3.5/24", "10.200.3.1")
	if _, err := l.p.Configure(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Configure with eth0 taken: %v", err)
	}
	hh := handle(t, l.host)
	if _, err := hh.LinkByName(spec.HostIfName); err == nil {
		t.Error("host end left behind after a failed Configure")
	}
	spec.NetNSPath = "/run/netns/does-not-exist"
	_, err := l.p.Configure(context.Background(), spec)
	var nsErr *NetNSError
	if !errors.As(err, &nsErr) || !errors.Is(err, os.ErrNotExist) || nsErr.CNIError().Code != 8 {
		t.Errorf("Configure in a missing netns: %v, want a NetNSError (CNI code 8) wrapping ErrNotExist", err)
	}
	if err := l.p.Check(context.Background(), spec); !errors.As(err, &nsErr) {
		t.Errorf("Check in a missing netns: %v, want a NetNSError", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spec.NetNSPath = pod.Path
	spec.IfName = "eth1"
	if _, err := l.p.Configure(ctx, spec); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Configure: %v", err)
	}
	if _, err := hh.LinkByName(spec.HostIfName); err == nil {
		t.Error("host end left behind after a cancelled Configure")
	}
}

func TestCheckReportsDrift(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	spec := l.spec(pod, "c4", "10.200.4.5/24", "10.200.4.1")
	if _, err := l.p.Configure(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	ph, hh := handle(t, pod), handle(t, l.host)
	eth0, _ := ph.LinkByName("eth0")
	if err := ph.AddrDel(eth0, &netlink.Addr{IPNet: netconv.IPNet(spec.IP)}); err != nil {
		t.Fatal(err)
	}
	hl, _ := hh.LinkByName(spec.HostIfName)
	if err := hh.LinkSetARPOn(hl); err != nil {
		t.Fatal(err)
	}
	err := l.p.Check(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "lacks address") || !strings.Contains(err.Error(), "answers ARP") {
		t.Errorf("Check: %v", err)
	}
	// The same IP with another prefix length is named as such.
	if err := ph.AddrAdd(eth0, &netlink.Addr{IPNet: netconv.IPNet(netip.PrefixFrom(spec.IP.Addr(), 32))}); err != nil {
		t.Fatal(err)
	}
	if err := l.p.Check(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "has address 10.200.4.5/32, want 10.200.4.5/24") {
		t.Errorf("Check with a /32 instead of a /24: %v", err)
	}
}

func TestTeardownIsIdempotent(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	spec := l.spec(pod, "c5", "10.200.5.5/24", "10.200.5.1")
	if _, err := l.p.Configure(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := l.p.Teardown(context.Background(), spec.HostIfName); err != nil {
			t.Fatalf("Teardown #%d: %v", i+1, err)
		}
	}
	if _, err := handle(t, pod).LinkByName("eth0"); err == nil {
		t.Error("pod end survived Teardown")
	}
	if _, err := handle(t, l.host).LinkByName(spec.HostIfName); err == nil {
		t.Error("host end survived Teardown")
	}
	// Not a veth: refused and kept.
	hh := handle(t, l.host)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "kfbr0", TxQLen: -1}}
	if err := hh.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	if err := l.p.Teardown(context.Background(), "kfbr0"); err == nil {
		t.Error("Teardown deleted a bridge")
	}
	if _, err := hh.LinkByName("kfbr0"); err != nil {
		t.Error("bridge gone")
	}
}

func TestTwoPodsPingThroughBridge(t *testing.T) {
	l := newLab(t)
	hh := handle(t, l.host)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "kfbr0", TxQLen: -1}}
	if err := hh.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	if err := hh.LinkSetUp(br); err != nil {
		t.Fatal(err)
	}
	podA, podB := podiftest.NewNetNS(t, "kfp"), podiftest.NewNetNS(t, "kfp")
	var hostEnds []string
	for i, p := range []*podiftest.NetNS{podA, podB} {
		spec := l.spec(p, p.Name, []string{"10.200.6.2/24", "10.200.6.3/24"}[i], "10.200.6.1")
		spec.DisableTxChecksum = true
		res, err := l.p.Configure(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		hostEnds = append(hostEnds, res.HostIfName)
		hl, _ := hh.LinkByName(res.HostIfName)
		if err := hh.LinkSetMaster(hl, br); err != nil {
			t.Fatal(err)
		}
	}

	// The gratuitous ARP of pod A, seen on its host end (ETH_P_ALL: a
	// bridge port hands frames to the bridge before protocol taps).
	var rx int
	if err := l.host.Do(func() (err error) {
		rx, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByName(hostEnds[0])
		if err != nil {
			return err
		}
		return unix.Bind(rx, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
	}); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rx)
	if err := SendGratuitousARP(podA.Path, "eth0", netip.MustParseAddr("10.200.6.2"), 1); err != nil {
		t.Fatal(err)
	}
	_ = unix.SetsockoptTimeval(rx, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	want := garpFrame(MACFromIP(netip.MustParseAddr("10.200.6.2")), netip.MustParseAddr("10.200.6.2"))
	for {
		buf := make([]byte, 2048)
		n, _, err := unix.Recvfrom(rx, buf, 0)
		if err != nil {
			t.Fatalf("no gratuitous ARP on %s: %v", hostEnds[0], err)
		}
		if n >= len(want) && string(buf[12:14]) == "\x08\x06" {
			if string(buf[:len(want)]) != string(want) {
				t.Errorf("received % x, want % x", buf[:n], want)
			}
			break
		}
	}

	// ICMP echo from A to B.
	var conn *icmp.PacketConn
	if err := podA.Do(func() (err error) {
		conn, err = icmp.ListenPacket("ip4:icmp", "10.200.6.2")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg, _ := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: 0x4b46, Seq: 1, Data: []byte("kubefay")}}).Marshal(nil)
	if _, err := conn.WriteTo(msg, &net.IPAddr{IP: net.ParseIP("10.200.6.3")}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		rb := make([]byte, 1500)
		n, peer, err := conn.ReadFrom(rb)
		if err != nil {
			t.Fatalf("no echo reply from pod B: %v", err)
		}
		m, err := icmp.ParseMessage(1, rb[:n])
		if err == nil && m.Type == ipv4.ICMPTypeEchoReply && peer.String() == "10.200.6.3" {
			break
		}
	}
}

func TestConfigureIPv6(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	spec := l.spec(pod, "c6", "fd00:200::5/64", "fd00:200::1")
	spec.Routes = []Route{{Dst: cidr(t, "fd00:96::/112"), GW: netip.MustParseAddr("fe80::1")}}
	spec.DisableTxChecksum = true
	res, err := l.p.Configure(context.Background(), spec)
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if res.PodMAC.String() != "0a:58:00:00:00:05" {
		t.Errorf("pod MAC %s", res.PodMAC)
	}
	ph := handle(t, pod)
	eth0, err := ph.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := ph.AddrList(eth0, netlink.FAMILY_V6)
	found := false
	for _, a := range addrs {
		if a.IPNet.String() == "fd00:200::5/64" {
			found = true
			if a.Flags&unix.IFA_F_TENTATIVE != 0 {
				t.Error("address still tentative (DAD not skipped)")
			}
		}
	}
	if !found {
		t.Errorf("addresses %v", addrs)
	}
	if err := l.p.Check(context.Background(), spec); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := l.p.Teardown(context.Background(), spec.HostIfName); err != nil {
		t.Fatal(err)
	}
}
