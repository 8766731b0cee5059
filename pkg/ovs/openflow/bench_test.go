package openflow_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// Benchmarks against a real ovs-vswitchd (netdev datapath). Each one also
// times ovs-ofctl doing the same work on the same bridge in the same run and
// reports:
//
//	ofctl-ns/op  wall time of one ovs-ofctl run (process start included)
//	x-ofctl      our time divided by ovs-ofctl's (below 1 = faster)
//
// Run: go test -run='^$' -bench=. -benchtime=5x ./pkg/ovs/openflow/

// BenchmarkBundle10kFlows commits 10,000 flows in one bundle; baseline
// `ovs-ofctl --bundle add-flows` of the same flows from a file.
func BenchmarkBundle10kFlows(b *testing.B) {
	benchInstall(b, 10000, true)
}

// BenchmarkBundle5Flows commits a bundle of 5 flows, the agent's typical
// per-pod change; baseline `ovs-ofctl --bundle add-flows` of 5 flows.
func BenchmarkBundle5Flows(b *testing.B) {
	benchInstall(b, 5, true)
}

// BenchmarkFlowMods10kFlows sends 10,000 plain flow_mods and a barrier;
// baseline `ovs-ofctl add-flows` (flow_mods and a barrier as well).
func BenchmarkFlowMods10kFlows(b *testing.B) {
	benchInstall(b, 10000, false)
}

func benchInstall(b *testing.B, n int, bundle bool) {
	inst, c := startBridge(b, openflow.Config{})
	ctx := testCtx(b)
	flows := manyFlows(n, 0xbe00)
	mods := make([]*openflow.FlowMod, n)
	lines := make([]string, n)
	for i, f := range flows {
		mods[i] = openflow.AddFlow(f)
		lines[i] = f.String()
	}
	file := filepath.Join(b.TempDir(), "flows.txt")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	clear := func() {
		if err := c.FlowMods(ctx, openflow.DeleteByCookie(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
	check := func(who string) {
		ts, err := c.TableStats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		total := 0
		for _, t := range ts {
			total += int(t.ActiveCount)
		}
		if total != n {
			b.Fatalf("%s installed %d flows, want %d", who, total, n)
		}
	}
	ofctlArgs := []string{"add-flows", inst.MgmtSock("br-int"), file}
	if bundle {
		ofctlArgs = append([]string{"--bundle"}, ofctlArgs...)
	}
	bun := c.NewBundle()

	var ours, theirs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clear()
		b.StartTimer()
		start := time.Now()
		var err error
		if bundle {
			err = bun.Add(mods...).Commit(ctx)
		} else {
			err = c.FlowMods(ctx, mods...)
		}
		ours += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		check("we")

		// Baseline: the same flows through ovs-ofctl.
		clear()
		start = time.Now()
		inst.Ofctl(b, ofctlArgs...)
		theirs += time.Since(start)
		check("ovs-ofctl")
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(theirs.Nanoseconds())/float64(b.N), "ofctl-ns/op")
	b.ReportMetric(float64(ours)/float64(theirs), "x-ofctl")
	b.ReportMetric(float64(n), "flows/op")
}
