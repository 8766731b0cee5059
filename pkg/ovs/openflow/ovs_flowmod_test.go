package openflow_test

import (
	"context"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovstest"
)

// TestModifyAndDeleteStrict checks the commands flowsync uses to converge:
// strict modify and strict delete in one bundle, then non-strict modify and
// delete, against a real bridge.
func TestModifyAndDeleteStrict(t *testing.T) {
	inst, c := startBridge(t, openflow.Config{})
	ctx := testCtx(t)
	dst := netip.MustParseAddr("10.0.0.5")
	keep := openflow.NewFlow(2).Priority(10).Cookie(1).MatchIPv4Dst(dst).Actions(openflow.Output(1))
	gone := openflow.NewFlow(2).Priority(20).Cookie(1).MatchIPv4Dst(dst).Actions(openflow.Output(2))
	other := openflow.NewFlow(2).Priority(30).Cookie(2).MatchIP().Actions(openflow.Output(3))
	if err := c.NewBundle().AddFlows(keep, gone, other).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	changed := openflow.NewFlow(2).Priority(10).Cookie(1).MatchIPv4Dst(dst).Actions(openflow.DecTTL(), openflow.Output(4))
	err := c.NewBundle().Add(openflow.ModifyFlowStrict(changed), openflow.DeleteFlowStrict(gone)).Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{changed.String(), other.String()}
	diffLists(t, "after strict modify+delete", ofctlFlows(t, inst), sortedCopy(want))

	// Non-strict modify of every ip flow with cookie 2 in table 2.
	mod := openflow.ModifyFlows(openflow.NewFlow(2).Cookie(2).MatchIP().Actions(openflow.Output(5)))
	mod.CookieMask = ^uint64(0)
	if err := c.FlowMods(ctx, mod); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ofctlFlows(t, inst), "\n")
	if !strings.Contains(got, "priority=30,ip actions=output:5") || !strings.Contains(got, "actions=dec_ttl,output:4") {
		t.Fatalf("non-strict modify did not apply as expected:\n%s", got)
	}
	// Non-strict delete of table 2 removes everything there.
	if err := c.FlowMods(ctx, openflow.DeleteFlows(openflow.NewFlow(2).Flow())); err != nil {
		t.Fatal(err)
	}
	if left := ofctlFlows(t, inst); len(left) != 0 {
		t.Fatalf("flows left after delete: %v", left)
	}
}

// TestVersionNegotiationFails checks that a bridge without OpenFlow 1.5 is
// refused with an error that says how to fix it.
func TestVersionNegotiationFails(t *testing.T) {
	inst := ovstest.Start(t)
	inst.AddBridge(t, "br-int")
	inst.Vsctl(t, "set", "bridge", "br-int", "protocols=OpenFlow13")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := openflow.Connect(ctx, openflow.Config{Target: "unix:" + inst.MgmtSock("br-int"), MinBackoff: 50 * time.Millisecond})
	if err == nil {
		c.Close()
		t.Fatal("connected to an OpenFlow 1.3-only bridge")
	}
	if !strings.Contains(err.Error(), "does not speak OpenFlow 1.5") {
		t.Fatalf("error %q does not explain the version mismatch", err)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
