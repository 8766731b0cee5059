package agent

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/networkpolicy"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// testOwners mirrors the node of pkg/agent/trace/testdata: pods a (port 3)
// and b (port 4), a remote block on node-2, a private subnet "secret".
func testOwners() (*owners, []localPod) {
	pods := []localPod{
		{Key: "default/a", OFPort: 3, MAC: "0a:58:0a:c0:00:0a", IP: netip.MustParseAddr("10.192.0.10"), Subnet: "default"},
		{Key: "default/b", OFPort: 4, MAC: "0a:58:0a:c0:00:0b", IP: netip.MustParseAddr("10.192.0.11"), Subnet: "default"},
	}
	v := ClusterView{
		Subnets: []SubnetView{{Name: "default", CIDR: netip.MustParsePrefix("10.192.0.0/16")},
			{Name: "secret", CIDR: netip.MustParsePrefix("10.193.0.0/24"), Private: true}},
		Blocks: []BlockView{{CIDR: netip.MustParsePrefix("10.192.1.0/26"), Node: "node-2"},
			{CIDR: netip.MustParsePrefix("10.192.0.0/26"), Node: "node-1"}},
		NodeIPs: map[string]netip.Addr{"node-1": netip.MustParseAddr("198.51.100.11"), "node-2": netip.MustParseAddr("198.51.100.12")},
	}
	rules := []networkpolicy.RuleInfo{
		{Cookie: networkpolicy.CookieFor(networkpolicy.KindRuleAllow, 7), ConjID: 7, Direction: networkpolicy.Ingress,
			Namespace: "default", Policy: "web", RuleIndex: 1},
		{Cookie: networkpolicy.CookieFor(networkpolicy.KindDenyIngress, 0x0ac0000b), Direction: networkpolicy.Ingress, Pod: "default/b"},
	}
	o := newOwners(pods, v, "node-1", rules)
	o.isolating = func(pod string, dir networkpolicy.Direction) []string {
		if pod == "default/b" && dir == networkpolicy.Ingress {
			return []string{"default/deny-all"}
		}
		return nil
	}
	return o, pods
}

func TestOwnerNames(t *testing.T) {
	o, _ := testOwners()
	for _, tc := range []struct {
		cookie uint64
		table  pipeline.Table
		want   string
	}{
		{pipeline.Cookie(pipeline.FeatureBase, 0), pipeline.Output, "base pipeline"},
		{pipeline.Cookie(pipeline.FeaturePod, 4), pipeline.L2Forwarding, "pod default/b"},
		{pipeline.Cookie(pipeline.FeaturePod, 9), pipeline.L2Forwarding, "pod on port 9"},
		{pipeline.SubnetCookie("default"), pipeline.ARPResponder, "subnet default"},
		{pipeline.SubnetCookie("secret"), pipeline.SubnetIsolation, "isolation of private subnet secret"},
		{pipeline.TunnelBlockCookie("10.192.1.0/26"), pipeline.L3Forwarding, "tunnel to node node-2 (block 10.192.1.0/26)"},
		{pipeline.TunnelSourceCookie("198.51.100.12"), pipeline.Classifier, "tunnel from node node-2"},
		{pipeline.CookieUnknownTunnelSource, pipeline.Classifier, "tunnel guard (outer source is no known node)"},
		{networkpolicy.CookieFor(networkpolicy.KindRuleAllow, 7), pipeline.IngressRules, "NetworkPolicy default/web ingress rule 1"},
		{networkpolicy.CookieFor(networkpolicy.KindConjunctionPart, 7), pipeline.IngressRules, "NetworkPolicy default/web ingress rule 1"},
		{networkpolicy.CookieFor(networkpolicy.KindDenyIngress, 0x0ac0000b), pipeline.IngressRules,
			"isolation of pod default/b (ingress; NetworkPolicy default/deny-all)"},
		{networkpolicy.CookieFor(networkpolicy.KindDenyEgress, 0x0ac0000c), pipeline.EgressRules, "isolation of pod 10.192.0.12 (egress)"},
		{0x1234, pipeline.Classifier, "not kubefay (cookie 0x1234)"},
	} {
		if got := o.name(tc.cookie, tc.table.ID); got != tc.want {
			t.Errorf("name(%#x, %s) = %q, want %q", tc.cookie, tc.table.Name, got, tc.want)
		}
	}
}

// TestAnnotateSummary decides the one-line verdicts of real traces.
func TestAnnotateSummary(t *testing.T) {
	o, _ := testOwners()
	for _, tc := range []struct{ file, inPortPod, want string }{
		{"local-tcp", "a", "delivered to pod default/b (port 4)"},
		{"remote-udp", "a", "sent to node node-2 through tun0"},
		{"host-icmp", "a", "to the host via gw0"},
		{"spoofed", "a", "dropped by spoof guard of pod default/a in table Classifier"},
		{"tunnel-unknown", "", "dropped by tunnel guard (outer source is no known node) in table Classifier"},
		{"np-deny", "a", "dropped by isolation of pod default/b (ingress; NetworkPolicy default/deny-all) in table IngressRules"},
		{"subnet-private-out", "a", "dropped by isolation of private subnet secret in table SubnetIsolation"},
	} {
		b, err := os.ReadFile("trace/testdata/" + tc.file + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		tr, err := trace.Parse(string(b))
		if err != nil {
			t.Fatal(err)
		}
		p := trace.Packet{InPort: pipeline.TunnelOFPort}
		if tc.inPortPod == "a" {
			p.InPort = 3
		}
		if got := o.annotate(tr, p, tr.Verdict()); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.file, got, tc.want)
		}
		for _, s := range tr.Passes[0].Steps {
			if s.Owner == "" {
				t.Errorf("%s: step without owner: %+v", tc.file, s)
			}
		}
	}
}

func TestTracePacketAndFlowFilter(t *testing.T) {
	_, pods := testOwners()
	p, err := tracePacket(ctl.TraceRequest{FromPod: "default/a", DstIP: netip.MustParseAddr("10.192.1.5"), DstPort: 80}, pods)
	if err != nil || p.InPort != 3 || p.DstMAC != pipeline.RouterMAC.String() || p.Proto != "tcp" || p.SrcIP != pods[0].IP {
		t.Fatalf("remote: %+v %v", p, err)
	}
	p, err = tracePacket(ctl.TraceRequest{FromPod: "default/a", DstIP: pods[1].IP, Proto: "udp", DstPort: 53,
		SrcIP: netip.MustParseAddr("10.192.0.99")}, pods)
	if err != nil || p.DstMAC != pods[1].MAC || p.SrcIP.String() != "10.192.0.99" {
		t.Fatalf("same subnet, spoofed: %+v %v", p, err)
	}
	if _, err := tracePacket(ctl.TraceRequest{FromPod: "default/x", DstIP: pods[1].IP}, pods); err == nil ||
		!strings.Contains(err.Error(), "no port on this node") {
		t.Fatalf("unknown pod: %v", err)
	}
	keep, err := flowFilter(ctl.FlowsRequest{Pod: "default/b", Table: "ingressrules"}, pods)
	if err != nil {
		t.Fatal(err)
	}
	deny := of.NewFlow(pipeline.IngressRules.ID).Cookie(networkpolicy.CookieFor(networkpolicy.KindDenyIngress, 1)).
		Priority(pipeline.PolicyDefaultDenyPriority).MatchIP().MatchIPv4Dst(pods[1].IP).Drop()
	other := of.NewFlow(pipeline.IngressRules.ID).Priority(pipeline.PolicyDefaultDenyPriority).MatchIP().MatchIPv4Dst(netip.MustParseAddr("10.192.0.110")).Drop()
	l2 := pipeline.PodFlows(pipeline.Pod{OFPort: 4, MAC: []byte{2, 0, 0, 0, 0, 4}, IP: pods[1].IP})[4]
	if !keep(deny) || keep(other) || keep(l2) {
		t.Fatalf("filter: deny %v other %v l2 (other table) %v", keep(deny), keep(other), keep(l2))
	}
	if _, err := flowFilter(ctl.FlowsRequest{Table: "Nope"}, pods); err == nil {
		t.Fatal("unknown table accepted")
	}
}
