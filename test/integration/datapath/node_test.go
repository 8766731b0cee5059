package datapath

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/ipam"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
	"github.com/kubefay/kubefay/pkg/ovs/ovstest"
)

// Addressing of the tests' default subnet; it exists only in the tests'
// network namespaces.
var (
	defaultCIDR    = netip.MustParsePrefix("10.192.0.0/16")
	defaultGateway = netip.MustParseAddr("10.192.0.1")
)

const (
	bridge  = "br-int"
	podMTU  = 1450
	timeout = 60 * time.Second // hang guard for one test, not a performance bound
)

// node is one simulated Kubernetes node: a private OVS with br-int, tun0 and
// gw0, the agent's flows, and a CNIHandler wired to real pieces.
type node struct {
	ovs     *ovstest.Instance
	vs      *ovsdb.VSwitch
	conn    *of.Conn
	flows   *flowsync.Syncer[*of.Flow]
	handler *agent.CNIHandler
	info    pipeline.Node
}

// pod is a pod network namespace with its ADD result.
type pod struct {
	ns          *podiftest.NetNS
	containerID string
	name        string
	ip          netip.Prefix
	hostIf      string
}

// nodeConfig is the agent configuration of a test node's bridge and ports.
func nodeConfig(tunnelType string) *config.Agent {
	return &config.Agent{Bridge: bridge, DatapathType: ovstest.DatapathType(), TunnelPort: "tun0", TunnelType: tunnelType, GatewayPort: "gw0"}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// dialVSwitch connects a VSwitch to inst's database, as the agent does.
func dialVSwitch(t *testing.T, ctx context.Context, inst *ovstest.Instance) *ovsdb.VSwitch {
	t.Helper()
	c, err := ovsdb.Dial(ctx, "unix:"+inst.DBSock, ovsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	vs, err := ovsdb.NewVSwitch(ctx, c, ovsdb.VSwitchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// startNode brings up a node whose pods get addresses from firstIP on.
func startNode(t *testing.T, ctx context.Context, firstIP netip.Addr) *node {
	t.Helper()
	return startNodeTunnel(t, ctx, firstIP, "vxlan")
}

// startNodeTunnel is startNode with tun0 of the given type (vxlan, geneve).
func startNodeTunnel(t *testing.T, ctx context.Context, firstIP netip.Addr, tunnelType string) *node {
	t.Helper()
	ovstest.Require(t) // OVS tools and root; a skip, or a failure under CI=true
	podiftest.Require(t, "ping", "sysctl")
	inst := ovstest.Start(t)
	// No IPv6 noise; the node never answers ARP for addresses it does not
	// own on the receiving interface.
	inst.Exec(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
		"net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.conf.all.arp_ignore=1")

	vs := dialVSwitch(t, ctx, inst)
	if err := agent.EnsureBridge(ctx, vs, nodeConfig(tunnelType), podMTU); err != nil {
		t.Fatal(err)
	}
	gwMAC, err := net.ParseMAC(inst.Exec(t, "cat", "/sys/class/net/gw0/address"))
	if err != nil {
		t.Fatalf("gw0 MAC: %v", err)
	}

	conn, err := of.Connect(ctx, of.Config{Target: "unix:" + inst.MgmtSock(bridge)})
	if err != nil {
		t.Fatalf("openflow: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	flows := flowsync.New[*of.Flow](agent.NewFlowSwitch(conn))
	subnet := ipam.Subnet{Name: "default", CIDR: defaultCIDR, Gateway: defaultGateway}
	info := pipeline.Node{GatewayMAC: gwMAC, Subnets: []ipam.Subnet{subnet}}
	flows.Set("base", pipeline.BaseFlows(info))
	flows.Set("subnet/default", pipeline.SubnetFlows(info, subnet))
	if _, err := flows.Sync(ctx); err != nil {
		t.Fatalf("install base flows: %v", err)
	}

	n := &node{ovs: inst, vs: vs, conn: conn, flows: flows, info: info}
	n.handler = &agent.CNIHandler{
		IPAM:    newMemAllocator(firstIP, defaultGateway, defaultCIDR, "default"),
		Ports:   agent.NewOVSPorts(vs, bridge),
		Plumber: &podif.Plumber{HostNetNSPath: filepath.Join(podiftest.NetNSDir, inst.NetNS)},
		Flows:   flows,
		MTU:     podMTU,
		Netdev:  ovstest.DatapathType() == ovstest.Netdev,
	}
	return n
}

// addPod creates a pod namespace and runs CNI ADD for it; its DEL is
// registered for cleanup (before the namespace and OVS go away).
func (n *node) addPod(t *testing.T, ctx context.Context, name string) *pod {
	t.Helper()
	ns := podiftest.NewNetNS(t, "kfdp")
	p := &pod{ns: ns, name: name, containerID: randID()}
	p.hostIf = podif.HostIfName(p.containerID, podif.DefaultIfName)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := n.handler.Del(ctx, p.request(api.CommandDel)); err != nil {
			t.Errorf("cleanup DEL %s: %v", name, err)
		}
		if err := n.handler.Settle(ctx); err != nil {
			t.Errorf("cleanup DEL %s: veth and address: %v", name, err)
		}
	})
	res, err := n.handler.Add(ctx, p.request(api.CommandAdd))
	if err != nil {
		t.Fatalf("ADD %s: %v", name, err)
	}
	if len(res.IPs) != 1 {
		t.Fatalf("ADD %s: %d IPs in result, want 1", name, len(res.IPs))
	}
	ip, ok := netip.AddrFromSlice(res.IPs[0].Address.IP.To4())
	ones, _ := res.IPs[0].Address.Mask.Size()
	if !ok {
		t.Fatalf("ADD %s: bad IP %v", name, res.IPs[0].Address)
	}
	p.ip = netip.PrefixFrom(ip, ones)
	return p
}

func (p *pod) request(cmd api.Command) *api.Request {
	return &api.Request{Command: cmd, ContainerID: p.containerID, Netns: p.ns.Path, IfName: "eth0",
		Pod: api.PodArgs{Namespace: "default", Name: p.name, UID: "uid-" + p.name}, CNIVersion: "1.0.0"}
}

func randID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ping sends single pings from p to dst until one is answered or the
// attempts run out (the first ARP round may cost a packet).
func (p *pod) ping(dst netip.Addr, attempts int) error {
	var out []byte
	var err error
	for i := 0; i < attempts; i++ {
		out, err = exec.Command("ip", "netns", "exec", p.ns.Name, "ping", "-n", "-c", "1", "-W", "1", dst.String()).CombinedOutput()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("ping %s from %s: %v\n%s", dst, p.ip, err, out)
}

// dfPing sends a don't-fragment ping of exactly mtu bytes (IP packet) from
// network namespace nsName (a pod's or a node's) to dst: it passes only if
// every hop on the way carries packets of that size.
func dfPing(nsName string, dst netip.Addr, mtu, attempts int) error {
	var out []byte
	var err error
	for i := 0; i < attempts; i++ {
		out, err = exec.Command("ip", "netns", "exec", nsName, "ping", "-n", "-c", "1", "-W", "1", "-M", "do",
			"-s", fmt.Sprint(mtu-28), dst.String()).CombinedOutput()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("ping -M do -s %d %s from netns %s: %v\n%s", mtu-28, dst, nsName, err, out)
}

// checkGatewayMTU asserts that gw0 has the pod MTU in the node's netns.
func (n *node) checkGatewayMTU(t *testing.T) {
	t.Helper()
	if got := n.ovs.Exec(t, "cat", "/sys/class/net/gw0/mtu"); got != fmt.Sprint(podMTU) {
		t.Errorf("gw0 MTU %s, want %d (mtu_request)", got, podMTU)
	}
}

// flowLines returns the flows on br-int whose cookie matches
// cookie/mask, as ovs-ofctl prints them.
func (n *node) flowLines(t *testing.T, cookie, mask uint64) []string {
	t.Helper()
	out := n.ovs.Ofctl(t, "dump-flows", "--no-stats", n.ovs.MgmtSock(bridge),
		fmt.Sprintf("cookie=%#x/%#x", cookie, mask))
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "actions=") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return lines
}

// podFlows returns the pod flows on br-int: all of them for ofport 0,
// else those of the pod on ofport.
func (n *node) podFlows(t *testing.T, ofport uint32) []string {
	t.Helper()
	if ofport == 0 {
		return n.flowLines(t, pipeline.Cookie(pipeline.FeaturePod, 0), pipeline.CookieFeatMask)
	}
	return n.flowLines(t, pipeline.Cookie(pipeline.FeaturePod, uint64(ofport)), ^uint64(0))
}

// ofport returns the OpenFlow port of interface name ("" when absent).
func (n *node) ofport(t *testing.T, name string) uint32 {
	t.Helper()
	i, ok := n.vs.Interface(name)
	if !ok || i.OFPort <= 0 {
		t.Fatalf("interface %s has no ofport (present=%v)", name, ok)
	}
	return uint32(i.OFPort)
}

// linkExists reports whether interface name exists in the node's netns.
func (n *node) linkExists(name string) bool {
	return exec.Command("ip", "-n", n.ovs.NetNS, "link", "show", "dev", name).Run() == nil
}

// resync is what the agent does when its OpenFlow connection comes back
// after ovs-vswitchd restarted: forget the installed view and converge. It
// retries until the connection is back and the flows are installed.
func (n *node) resync(t *testing.T, ctx context.Context, wantFlows int) {
	t.Helper()
	var lastErr error
	for ctx.Err() == nil {
		n.flows.Invalidate()
		_, err := n.flows.Sync(ctx)
		if err == nil {
			got := len(n.flowLines(t, pipeline.CookieMagic, pipeline.CookieMagicMask))
			if got == wantFlows {
				return
			}
			err = fmt.Errorf("%d kubefay flows installed, want %d", got, wantFlows)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("flows not restored after ovs-vswitchd restart: %v", lastErr)
}
