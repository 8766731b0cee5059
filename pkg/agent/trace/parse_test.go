package trace

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

// The testdata files are real ofproto/trace output of OVS 3.1 (netdev) on a
// bridge holding the agent's pipeline: two local pods on ports 3 and 4
// (10.192.0.10, 10.192.0.11), a remote block 10.192.1.0/26 on node
// 198.51.100.12, and, for some, an isolation or a private subnet.
// native-tunnel.txt is from a lab node: a packet from gw0 into the tunnel,
// which OVS follows into br-phy.
// local-tcp-named-tables.txt is local-tcp on a bridge whose tables the agent
// named (ovs-ofctl --names prints them; ofproto/trace does not).
func TestParseVerdict(t *testing.T) {
	for _, tc := range []struct {
		file       string
		passes     int
		outcome    Outcome
		port       uint32
		tunnelDst  string
		lastTable  string
		lastCookie uint64
		miss       bool
	}{
		{"local-tcp", 2, Delivered, 4, "", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"local-tcp-named-tables", 2, Delivered, 4, "", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		// from the lab (netdev): the tunnel output goes on in br-phy
		{"native-tunnel", 2, Tunneled, 1, "198.51.100.12", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"reply-est", 2, Delivered, 4, "", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"tunnel-in", 2, Delivered, 4, "", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"remote-udp", 2, Tunneled, 1, "198.51.100.12", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"host-icmp", 2, ToHost, 2, "", "Output", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"spoofed", 1, Dropped, 0, "", "Classifier", pipeline.Cookie(pipeline.FeatureBase, 0), false},
		{"tunnel-unknown", 1, Dropped, 0, "", "Classifier", pipeline.CookieUnknownTunnelSource, false},
		{"np-deny", 2, Dropped, 0, "", "IngressRules", 0x4b0500020ac0000b, false},
		{"subnet-private-out", 2, Dropped, 0, "", "SubnetIsolation", pipeline.SubnetCookie("secret"), false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tc.file+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := Parse(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Passes) != tc.passes {
				t.Fatalf("%d passes, want %d", len(tr.Passes), tc.passes)
			}
			v := tr.Verdict()
			if v.Outcome != tc.outcome || v.Port != tc.port {
				t.Fatalf("verdict %s port %d, want %s port %d", v.Outcome, v.Port, tc.outcome, tc.port)
			}
			if got := v.TunnelDst; (tc.tunnelDst == "" && got.IsValid()) || (tc.tunnelDst != "" && got != netip.MustParseAddr(tc.tunnelDst)) {
				t.Fatalf("tunnel dst %v, want %q", got, tc.tunnelDst)
			}
			if v.Step == nil || v.Step.TableName != tc.lastTable || v.Step.Cookie != tc.lastCookie || v.Step.Miss != tc.miss {
				t.Fatalf("last step %+v, want table %s cookie %#x", v.Step, tc.lastTable, tc.lastCookie)
			}
		})
	}
}

// TestParseSteps reads the same trace with the bridge's tables unnamed and
// named (Flow_Table, as the agent sets them): ofproto/trace prints table
// numbers either way, and the steps come out the same.
func TestParseSteps(t *testing.T) {
	for _, file := range []string{"local-tcp", "local-tcp-named-tables"} {
		t.Run(file, func(t *testing.T) { checkLocalTCPSteps(t, file) })
	}
}

func checkLocalTCPSteps(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range tr.Passes {
		for _, s := range p.Steps {
			names = append(names, s.TableName)
		}
	}
	want := []string{"Classifier", "Conntrack", "ConntrackState", "EgressRules", "L3Forwarding",
		"L2Forwarding", "SubnetIsolation", "IngressRules", "ConntrackCommit", "Output"}
	if len(names) != len(want) {
		t.Fatalf("tables %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("tables %v, want %v", names, want)
		}
	}
	first := tr.Passes[0].Steps[0]
	if first.Priority != 190 || first.Cookie != pipeline.Cookie(pipeline.FeaturePod, 3) ||
		first.Match != "ip,in_port=3,dl_src=0a:58:0a:c0:00:0a,nw_src=10.192.0.10" || len(first.Actions) != 2 {
		t.Fatalf("first step %+v", first)
	}
	if tr.Passes[1].CTState != "new|trk" || tr.Passes[0].CTState != "" {
		t.Fatalf("ct states %q %q", tr.Passes[0].CTState, tr.Passes[1].CTState)
	}
}

func TestParseNoMatchAndErrors(t *testing.T) {
	out := "Flow: tcp,in_port=9,nw_src=1.2.3.4\n\nbridge(\"br-int\")\n----------------\n 0. No match.\n    drop\n\nFinal flow: unchanged\nDatapath actions: drop\n"
	tr, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	v := tr.Verdict()
	if v.Outcome != Dropped || v.Step == nil || !v.Step.Miss || v.Step.TableName != "Classifier" {
		t.Fatalf("verdict %+v", v)
	}
	if _, err := Parse("ovs-appctl: cannot connect"); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestPacketFlow(t *testing.T) {
	p := Packet{InPort: 3, SrcMAC: "0a:58:0a:c0:00:0a", DstMAC: "0a:00:00:00:00:01",
		SrcIP: netip.MustParseAddr("10.192.0.10"), DstIP: netip.MustParseAddr("10.192.1.5"), Proto: "udp", DstPort: 53}
	if got, want := p.Flow(), "udp,in_port=3,dl_src=0a:58:0a:c0:00:0a,dl_dst=0a:00:00:00:00:01,nw_src=10.192.0.10,nw_dst=10.192.1.5,nw_ttl=64,udp_src=40000,udp_dst=53"; got != want {
		t.Fatalf("flow\n%s\nwant\n%s", got, want)
	}
	p.Proto, p.InPort = "icmp", 1
	p.TunSrc, p.TunDst = netip.MustParseAddr("198.51.100.12"), netip.MustParseAddr("198.51.100.11")
	if got, want := p.Flow(), "icmp,in_port=1,tun_id=0,tun_src=198.51.100.12,tun_dst=198.51.100.11,dl_src=0a:58:0a:c0:00:0a,dl_dst=0a:00:00:00:00:01,nw_src=10.192.0.10,nw_dst=10.192.1.5,nw_ttl=64,icmp_type=8,icmp_code=0"; got != want {
		t.Fatalf("flow\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []Packet{{}, {InPort: 3, Proto: "sctp", SrcMAC: "x", DstMAC: "y", SrcIP: p.SrcIP, DstIP: p.DstIP}} {
		if bad.Validate() == nil {
			t.Fatalf("%+v validated", bad)
		}
	}
}

// TestParseSkipsUnderlayBridge: the steps of br-phy (after a native tunnel
// output) are not br-int's.
func TestParseSkipsUnderlayBridge(t *testing.T) {
	b, err := os.ReadFile("testdata/native-tunnel.txt")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Last()
	out := last.Steps[len(last.Steps)-1]
	if out.TableName != "Output" || len(out.Actions) != 1 || out.Actions[0] != "output:NXM_NX_REG1[]" {
		t.Fatalf("last step %+v", out)
	}
	for _, s := range last.Steps {
		if s.Cookie == 0 {
			t.Errorf("a step of another bridge: %+v", s)
		}
	}
	if !strings.HasPrefix(last.DatapathActions, "ct(commit") {
		t.Errorf("datapath actions %q", last.DatapathActions)
	}
}
