package datapath

import (
	"net/netip"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/networkpolicy"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// TestTraceVerdicts runs pkg/agent/trace (ovs-appctl ofproto/trace with the
// packets `kubectl kubefay trace` builds) on a node with the real pipeline:
// delivered to a local pod, tunnelled to a remote block, to the host, a
// spoofed source dropped by the Classifier, and a pod's NetworkPolicy
// isolation dropping in IngressRules.
func TestTraceVerdicts(t *testing.T) {
	ctx := testCtx(t)
	n := startNode(t, ctx, netip.MustParseAddr("10.192.0.10"))
	a := n.addPod(t, ctx, "a")
	b := n.addPod(t, ctx, "b")
	remote := pipeline.RemoteBlock{CIDR: netip.MustParsePrefix("10.192.1.0/26"), NodeIP: netip.MustParseAddr("198.51.100.12")}
	n.flows.Set("tunnels", append(pipeline.TunnelFlows(remote), pipeline.TunnelSourceFlows(remote.NodeIP)...))
	if _, err := n.flows.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	target, err := trace.VswitchdTarget(n.ovs.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := n.ofport(t, a.hostIf), n.ofport(t, b.hostIf)
	from := func(dst string, proto string) trace.Packet {
		return trace.Packet{InPort: pa, SrcMAC: podMAC(t, a).String(), DstMAC: pipeline.RouterMAC.String(),
			SrcIP: a.ip.Addr(), DstIP: netip.MustParseAddr(dst), Proto: proto, DstPort: 80}
	}
	spoofed := from(b.ip.Addr().String(), "tcp")
	spoofed.SrcIP = netip.MustParseAddr("10.192.0.99")
	fromTunnel := from(b.ip.Addr().String(), "udp")
	fromTunnel.InPort, fromTunnel.TunSrc, fromTunnel.TunDst = pipeline.TunnelOFPort, remote.NodeIP, netip.MustParseAddr("198.51.100.11")
	fromTunnel.SrcIP = netip.MustParseAddr("10.192.1.5")
	forged := fromTunnel
	forged.TunSrc = netip.MustParseAddr("198.51.100.77")

	type want struct {
		outcome trace.Outcome
		port    uint32
		table   pipeline.Table
		cookie  uint64
	}
	check := func(name string, p trace.Packet, ctNext string, w want) {
		t.Helper()
		raw, tr, err := trace.Run(ctx, target, bridge, p, ctNext)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v := tr.Verdict()
		if v.Outcome != w.outcome || (w.port != 0 && v.Port != w.port) {
			t.Errorf("%s: %s port %d, want %s port %d\n%s", name, v.Outcome, v.Port, w.outcome, w.port, raw)
			return
		}
		if w.outcome == trace.Dropped && (v.Step == nil || v.Step.Table != w.table.ID || v.Step.Cookie != w.cookie) {
			t.Errorf("%s: dropped at %+v, want table %s cookie %#x\n%s", name, v.Step, w.table.Name, w.cookie, raw)
		}
		if w.outcome == trace.Tunneled && v.TunnelDst != remote.NodeIP {
			t.Errorf("%s: tunnel to %v, want %v", name, v.TunnelDst, remote.NodeIP)
		}
	}
	base := pipeline.Cookie(pipeline.FeatureBase, 0)
	check("local tcp", from(b.ip.Addr().String(), "tcp"), "", want{outcome: trace.Delivered, port: pb})
	check("local reply", from(b.ip.Addr().String(), "tcp"), "trk,est,rpl", want{outcome: trace.Delivered, port: pb})
	check("remote udp", from("10.192.1.5", "udp"), "", want{outcome: trace.Tunneled, port: pipeline.TunnelOFPort})
	check("host icmp", from("10.96.0.1", "icmp"), "", want{outcome: trace.ToHost, port: pipeline.GatewayOFPort})
	check("spoofed", spoofed, "", want{trace.Dropped, 0, pipeline.Classifier, base})
	check("from tunnel", fromTunnel, "", want{outcome: trace.Delivered, port: pb})
	check("forged tunnel", forged, "", want{trace.Dropped, 0, pipeline.Classifier, pipeline.CookieUnknownTunnelSource})

	deny := networkpolicy.CookieFor(networkpolicy.KindDenyIngress, 1)
	n.flows.Set("isolation", []*of.Flow{of.NewFlow(pipeline.IngressRules.ID).Cookie(deny).
		Priority(pipeline.PolicyDefaultDenyPriority).MatchIP().MatchIPv4Dst(b.ip.Addr()).Drop()})
	if _, err := n.flows.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	check("isolated", from(b.ip.Addr().String(), "tcp"), "", want{trace.Dropped, 0, pipeline.IngressRules, deny})
	check("isolated, reply", from(b.ip.Addr().String(), "tcp"), "trk,est,rpl", want{outcome: trace.Delivered, port: pb})
}
