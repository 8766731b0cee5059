package pipeline

import (
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/ipam"

	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func testNode() Node {
	return Node{
		GatewayMAC:  net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02},
		NodeAddress: netip.MustParseAddr("10.192.0.2"),
		Subnets: []ipam.Subnet{
			{Name: "defaultnet", CIDR: netip.MustParsePrefix("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1")},
			{Name: "newnet", CIDR: netip.MustParsePrefix("10.182.0.0/16"), Gateway: netip.MustParseAddr("10.182.0.1"),
				Private: true, AllowFrom: []netip.Prefix{netip.MustParsePrefix("10.172.0.0/16")}},
		},
	}
}

func testPod(i int) Pod {
	return Pod{Namespace: "default", Name: "pod" + string(rune('a'+i)), Interface: "eth0",
		OFPort: uint32(10 + i), MAC: net.HardwareAddr{0x0a, 0x58, 10, 192, 0, byte(10 + i)},
		IP: netip.AddrFrom4([4]byte{10, 192, 0, byte(10 + i)})}
}

// nodeFlows is every flow of a node with pods local pods, a remote block,
// a remote static IP and their two nodes.
func nodeFlows(pods int) []*of.Flow {
	n := testNode()
	flows := BaseFlows(n)
	for _, s := range n.Subnets {
		flows = append(flows, SubnetFlows(n, s)...)
	}
	for i := 0; i < pods; i++ {
		flows = append(flows, PodFlows(testPod(i))...)
	}
	flows = append(flows, TunnelFlows(RemoteBlock{CIDR: netip.MustParsePrefix("10.192.0.64/26"), NodeIP: netip.MustParseAddr("198.51.100.12")})...)
	flows = append(flows, TunnelFlows(RemoteBlock{CIDR: netip.MustParsePrefix("10.192.0.20/32"), NodeIP: netip.MustParseAddr("198.51.100.13")})...)
	for _, ip := range []string{"198.51.100.12", "198.51.100.13"} {
		flows = append(flows, TunnelSourceFlows(netip.MustParseAddr(ip))...)
	}
	return flows
}

func render(flows []*of.Flow) string {
	lines := make([]string, len(flows))
	for i, f := range flows {
		lines[i] = f.String()
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestGoldenFlows pins the exact flows of a node with 3 pods, in ovs-ofctl's
// spelling. Run with -update after an intended pipeline change and review
// the diff of testdata/node-3pods.flows.
func TestGoldenFlows(t *testing.T) {
	got := render(nodeFlows(3))
	path := filepath.Join("testdata", "node-3pods.flows")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenFlows -update)", err)
	}
	if got != string(want) {
		t.Errorf("flows differ from %s (go test -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestFlowsPerPod(t *testing.T) {
	per := len(nodeFlows(11)) - len(nodeFlows(10))
	if per > 5 {
		t.Fatalf("%d flows per local pod, the budget is 5", per)
	}
	keys := map[string]bool{}
	for _, f := range nodeFlows(20) {
		if keys[f.Key()] {
			t.Fatalf("two flows share the key %s", f.Key())
		}
		keys[f.Key()] = true
	}
}

func TestCookies(t *testing.T) {
	for _, f := range nodeFlows(2) {
		if f.Cookie&CookieMagicMask != CookieMagic {
			t.Fatalf("flow without kubefay cookie: %s", f)
		}
		if _, ok := TableByID(f.Table); !ok {
			t.Fatalf("flow in undeclared table %d: %s", f.Table, f)
		}
	}
	if got := FeatureOf(Cookie(FeaturePod, 12)); got != FeaturePod {
		t.Fatalf("FeatureOf = %d", got)
	}
}
