package datapath

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

// TestBridgeTableNames: the agent's bridge setup names br-int's OpenFlow
// tables after the pipeline (Flow_Table rows, which ovs-ofctl --names
// prints), sends nothing when run again on the same connection or on a new
// one (an agent restart), and ofproto/trace still parses with names on.
func TestBridgeTableNames(t *testing.T) {
	ctx := testCtx(t)
	n := startNode(t, ctx, netip.MustParseAddr("10.192.0.10"))
	flows := n.ovs.Ofctl(t, "--names", "--no-stats", "dump-flows", n.ovs.MgmtSock(bridge))
	var want []string
	for _, tb := range pipeline.Tables {
		want = append(want, tb.Name)
		if !strings.Contains(flows, "table="+tb.Name+", priority=0 actions=") {
			t.Errorf("dump-flows --names shows no miss of table %s:\n%s", tb.Name, flows)
		}
	}
	slices.Sort(want)
	got := strings.Fields(n.ovs.Vsctl(t, "--columns=name", "--bare", "list", "Flow_Table"))
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Flow_Table names %v, want %v", got, want)
	}

	for name, vs := range map[string]*ovsdb.VSwitch{"same connection": n.vs, "new connection": dialVSwitch(t, ctx, n.ovs)} {
		before := vs.Client().Transactions()
		if err := agent.EnsureBridge(ctx, vs, nodeConfig("vxlan"), podMTU); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := vs.Client().Transactions() - before; d != 0 {
			t.Errorf("bridge setup again on the %s sent %d transactions, want 0", name, d)
		}
	}

	a, b := n.addPod(t, ctx, "a"), n.addPod(t, ctx, "b")
	target, err := trace.VswitchdTarget(n.ovs.RunDir)
	if err != nil {
		t.Fatal(err)
	}
	p := trace.Packet{InPort: n.ofport(t, a.hostIf), SrcMAC: podMAC(t, a).String(), DstMAC: pipeline.RouterMAC.String(),
		SrcIP: a.ip.Addr(), DstIP: b.ip.Addr(), Proto: "tcp", DstPort: 80}
	raw, tr, err := trace.Run(ctx, target, bridge, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if v := tr.Verdict(); v.Outcome != trace.Delivered || v.Port != n.ofport(t, b.hostIf) || v.Step.TableName != pipeline.Output.Name {
		t.Errorf("trace with table names: %s port %d at %+v, want delivered to b\n%s", v.Outcome, v.Port, v.Step, raw)
	}
}
