package nodenet

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/kubefay/kubefay/pkg/ipam"
)

var (
	defaultNet = ipam.Subnet{Name: "defaultnet", CIDR: cidr("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1"), NATOutgoing: true}
	newNet     = ipam.Subnet{Name: "newnet", CIDR: cidr("10.182.0.0/16"), Gateway: netip.MustParseAddr("10.182.0.1")}
	twoSubnets = Desired{GatewayIface: "gw0", NodeAddress: netip.MustParseAddr("10.192.0.2"),
		Subnets: []ipam.Subnet{defaultNet, newNet}, ServiceCIDRs: cidrs("10.96.0.0/12"), MTU: 1450}
	oneSubnet = Desired{GatewayIface: "gw0", NodeAddress: netip.MustParseAddr("10.192.0.2"),
		Subnets: []ipam.Subnet{defaultNet}, ServiceCIDRs: cidrs("10.96.0.0/12"), MTU: 1450}
)

// hostState is what Apply controls, as the kernel reports it.
type hostState struct {
	link, addrs, routes, nft, sysctls string
}

func (n *node) state() hostState {
	n.t.Helper()
	var sys []string
	n.do(func() error {
		for _, s := range desiredSysctls("gw0") {
			v, err := os.ReadFile(filepath.Join(procSys, s.name))
			if err != nil {
				return err
			}
			sys = append(sys, s.name+"="+strings.TrimSpace(string(v)))
		}
		return nil
	})
	link := strings.Fields(n.sh("ip", "-o", "link", "show", "dev", "gw0"))
	return hostState{
		// "3: gw0: <FLAGS> mtu N ..." without the changing counters.
		link:    strings.Join(link[1:5], " "),
		addrs:   n.sh("ip", "-4", "-o", "addr", "show", "dev", "gw0"),
		routes:  n.sh("ip", "-4", "route", "show", "table", "main"),
		nft:     n.sh("nft", "-a", "list", "table", "ip", TableName), // with handles: a rewrite changes them
		sysctls: strings.Join(sys, "\n"),
	}
}

// apply runs Apply in the node's namespace and returns the changes made.
func (n *node) apply(r *Reconciler, d Desired) []string {
	n.t.Helper()
	var changes []string
	n.do(func() (err error) {
		changes, err = r.reconcile(context.Background(), d)
		return err
	})
	return changes
}

func (n *node) reconciler() *Reconciler {
	n.t.Helper()
	var r *Reconciler
	n.do(func() (err error) {
		r, err = NewReconciler()
		return err
	})
	return r
}

// addrOrder returns gw0's IPv4 addresses in the kernel's order.
func (n *node) addrOrder() string {
	n.t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(n.sh("ip", "-4", "-o", "addr", "show", "dev", "gw0")), "\n") {
		f := strings.Fields(line)
		for i := range f {
			if f[i] == "inet" && i+1 < len(f) {
				out = append(out, f[i+1])
			}
		}
	}
	return strings.Join(out, " ")
}

// ourRoutes returns the kubefay routes, one per line.
func (n *node) ourRoutes() string {
	n.t.Helper()
	return strings.TrimSpace(n.sh("ip", "-4", "route", "show", "table", "main", "proto", "75"))
}

func TestApplyConvergesAndIsIdempotent(t *testing.T) {
	n := newNode(t)
	r := n.reconciler()
	if changes := n.apply(r, twoSubnets); len(changes) == 0 {
		t.Fatal("first Apply on a bare node changed nothing")
	}
	if got, want := n.addrOrder(), "10.192.0.2/32 10.192.0.1/32 10.182.0.1/32"; got != want {
		t.Errorf("gw0 addresses %q, want %q (node address first)", got, want)
	}
	wantRoutes := "10.182.0.0/16 dev gw0 scope link src 10.192.0.2 \n10.192.0.0/16 dev gw0 scope link src 10.192.0.2"
	if got := n.ourRoutes(); got != wantRoutes {
		t.Errorf("kubefay routes:\n%s\nwant\n%s", got, wantRoutes)
	}
	golden(t, "kernel-two-subnets.nft", n.sh("nft", "list", "table", "ip", TableName))
	first := n.state()
	for _, want := range []string{"net/ipv4/ip_forward=1", "net/ipv4/conf/gw0/rp_filter=2", "net/ipv4/conf/gw0/arp_ignore=1",
		"net/ipv4/conf/gw0/arp_announce=2", "net/ipv4/conf/all/send_redirects=0", "net/ipv4/conf/gw0/send_redirects=0"} {
		if !strings.Contains(first.sysctls, want) {
			t.Errorf("sysctl %s not set:\n%s", want, first.sysctls)
		}
	}
	if !strings.Contains(first.link, "mtu 1450") || !strings.Contains(first.link, ",UP") {
		t.Errorf("gw0 not up with MTU 1450: %s", first.link)
	}

	// Again with the same Reconciler: nothing is written, not even the
	// nftables table (its rule handles stay the same).
	if changes := n.apply(r, twoSubnets); len(changes) != 0 {
		t.Errorf("second Apply changed %q", changes)
	}
	if second := n.state(); second != first {
		t.Errorf("second Apply changed the node:\nbefore %+v\nafter  %+v", first, second)
	}

	// A fresh Reconciler (agent restart) rewrites the table once, to the same
	// content, and touches nothing else.
	changes := n.apply(n.reconciler(), twoSubnets)
	if len(changes) != 1 || !strings.HasPrefix(changes[0], "nftables table") {
		t.Errorf("Apply after a restart changed %q, want only the table rewrite", changes)
	}
	golden(t, "kernel-two-subnets.nft", n.sh("nft", "list", "table", "ip", TableName))
}

func TestApplyRemovesStaleState(t *testing.T) {
	n := newNode(t)
	r := n.reconciler()
	n.apply(r, twoSubnets)

	// What a crash, an older version or a human may leave behind.
	n.sh("ip", "addr", "del", "10.192.0.2/32", "dev", "gw0")                     // node address lost
	n.sh("ip", "addr", "add", "10.192.0.2/32", "dev", "gw0")                     // ...and back, now last
	n.sh("ip", "addr", "add", "10.9.9.9/24", "dev", "gw0")                       // stale address
	n.sh("ip", "route", "add", "10.150.0.0/24", "dev", "gw0", "proto", "75")     // stale kubefay route
	n.sh("ip", "route", "add", "10.151.0.0/24", "dev", "gw0", "proto", "static") // foreign route on gw0
	n.sh("ip", "route", "replace", "10.192.0.0/16", "dev", "gw0", "proto", "75") // kubefay route without src
	n.sh("nft", "add chain ip kubefay debris { type filter hook input priority 0 ; }")
	n.sh("nft", "add rule ip kubefay forward iifname \"eth9\" drop")
	n.sh("nft", "add element ip kubefay cluster-cidrs { 10.1.0.0/16 }")
	n.sh("nft", "add table ip other")
	n.sh("nft", "add chain ip other c")
	n.do(func() error {
		return os.WriteFile(filepath.Join(procSys, "net/ipv4/ip_forward"), []byte("0"), 0o644)
	})

	changes := n.apply(r, oneSubnet)
	t.Logf("changes: %q", changes)
	if !slices.Contains(changes, "nftables table ip kubefay rewritten (flush)") {
		t.Errorf("table not rewritten in place: %q", changes)
	}
	if got, want := n.addrOrder(), "10.192.0.2/32 10.192.0.1/32"; got != want {
		t.Errorf("gw0 addresses %q, want %q", got, want)
	}
	if got, want := n.ourRoutes(), "10.192.0.0/16 dev gw0 scope link src 10.192.0.2"; got != want {
		t.Errorf("kubefay routes:\n%s\nwant\n%s", got, want)
	}
	if routes := n.sh("ip", "-4", "route", "show", "10.151.0.0/24"); !strings.Contains(routes, "proto static") {
		t.Errorf("foreign route removed: %q", routes)
	}
	golden(t, "kernel-one-subnet.nft", n.sh("nft", "list", "table", "ip", TableName))
	if !strings.Contains(n.sh("nft", "list", "table", "ip", "other"), "chain c") {
		t.Error("another table was touched")
	}
	if s := n.state(); !strings.Contains(s.sysctls, "net/ipv4/ip_forward=1") {
		t.Errorf("ip_forward not restored:\n%s", s.sysctls)
	}
	if again := n.apply(r, oneSubnet); len(again) != 0 {
		t.Errorf("Apply after the repair changed %q", again)
	}

	// A route held by someone else where a SubNet wants one is reported and
	// left alone; the rest is still applied.
	n.sh("ip", "route", "add", "10.182.0.0/16", "dev", "gw0", "proto", "boot")
	err := n.try(func() error { return r.Apply(context.Background(), twoSubnets) })
	if err == nil || !strings.Contains(err.Error(), "10.182.0.0/16 is held by protocol 3") {
		t.Errorf("Apply over a foreign route: %v", err)
	}
	if got := n.addrOrder(); got != "10.192.0.2/32 10.192.0.1/32 10.182.0.1/32" {
		t.Errorf("addresses not applied next to a route conflict: %q", got)
	}
}

func TestApplyWithoutNodeAddressThenWithIt(t *testing.T) {
	n := newNode(t)
	r := n.reconciler()
	early := twoSubnets
	early.NodeAddress = netip.Addr{}
	n.apply(r, early)
	if got := n.addrOrder(); got != "10.192.0.1/32 10.182.0.1/32" {
		t.Errorf("addresses before the node address is known: %q", got)
	}
	if got := n.ourRoutes(); strings.Contains(got, "src") {
		t.Errorf("routes with a source before the node address is known:\n%s", got)
	}
	// Putting the node address first never leaves gw0 without an address
	// (the kernel would flush every route through it).
	n.sh("ip", "route", "add", "10.151.0.0/24", "dev", "gw0", "proto", "static")
	n.apply(r, twoSubnets)
	if got := n.addrOrder(); got != "10.192.0.2/32 10.192.0.1/32 10.182.0.1/32" {
		t.Errorf("node address not moved first: %q", got)
	}
	if routes := n.sh("ip", "-4", "route", "show", "10.151.0.0/24"); !strings.Contains(routes, "dev gw0") {
		t.Errorf("foreign route through gw0 lost while the node address was put first: %q", routes)
	}
	if got := n.ourRoutes(); strings.Count(got, "src 10.192.0.2") != 2 {
		t.Errorf("routes not given the node address as source:\n%s", got)
	}
}

func TestApplyFailsWithoutGateway(t *testing.T) {
	n := newNode(t)
	r := n.reconciler()
	d := twoSubnets
	d.GatewayIface = "gw9"
	err := n.try(func() error { return r.Apply(context.Background(), d) })
	if err == nil || !strings.Contains(err.Error(), "gateway interface gw9") {
		t.Errorf("Apply without the gateway device: %v", err)
	}
	if out := n.sh("nft", "list", "tables"); strings.Contains(out, TableName) {
		t.Errorf("nftables table written although the gateway device is missing: %s", out)
	}
}

func TestRemove(t *testing.T) {
	n := newNode(t)
	r := n.reconciler()
	n.apply(r, twoSubnets)
	// (Not on gw0: the kernel flushes a device's routes with its last IPv4
	// address.)
	n.veth("up0", 1500)
	n.sh("ip", "route", "add", "10.151.0.0/24", "dev", "up0", "proto", "static")
	for i := range 2 {
		n.do(func() error { return r.Remove(context.Background(), "gw0") })
		if got := n.addrOrder(); got != "" {
			t.Errorf("Remove #%d left addresses %q", i+1, got)
		}
		if got := n.ourRoutes(); got != "" {
			t.Errorf("Remove #%d left routes %q", i+1, got)
		}
		if out := n.sh("nft", "list", "tables"); strings.Contains(out, TableName) {
			t.Errorf("Remove #%d left the table: %s", i+1, out)
		}
	}
	if routes := n.sh("ip", "-4", "route", "show", "10.151.0.0/24"); routes == "" {
		t.Error("Remove deleted a foreign route")
	}
	// Reinstalling after Remove works with the same Reconciler.
	n.apply(r, oneSubnet)
	golden(t, "kernel-one-subnet.nft", n.sh("nft", "list", "table", "ip", TableName))
	n.do(func() error {
		l, err := netlink.LinkByName("gw0")
		if err != nil {
			return err
		}
		return netlink.LinkDel(l)
	})
	n.do(func() error { return r.Remove(context.Background(), "gw0") })
}

func TestApplyRecreatesATableWithForeignObjects(t *testing.T) {
	n := newNode(t)
	r := n.reconciler()
	n.apply(r, oneSubnet)
	n.sh("nft", "add map ip kubefay m { type ipv4_addr : verdict ; }")
	changes := n.apply(r, oneSubnet)
	if !slices.Contains(changes, "nftables table ip kubefay rewritten (recreate)") {
		t.Errorf("changes %q, want the table recreated", changes)
	}
	golden(t, "kernel-one-subnet.nft", n.sh("nft", "list", "table", "ip", TableName))
}
