package ovsdb

import (
	"slices"
	"strings"
	"testing"
)

// TestVSwitchFlowTables: BridgeSpec.FlowTables names the bridge's OpenFlow
// tables, which ovs-ofctl --names then prints; an unchanged spec sends
// nothing, a changed one renames and drops tables, and nil leaves them.
func TestVSwitchFlowTables(t *testing.T) {
	inst, c, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	spec := brIntSpec()
	spec.FlowTables = map[uint8]string{0: "Classifier", 10: "ARPResponder"}
	if err := vs.EnsureBridge(ctx, spec); err != nil { // creates the bridge
		t.Fatal(err)
	}
	mgmt := inst.MgmtSock("br-int")
	inst.Ofctl(t, "add-flow", mgmt, "table=0,priority=1,actions=goto_table:10")
	inst.Ofctl(t, "add-flow", mgmt, "table=10,priority=1,actions=drop")
	named := inst.Ofctl(t, "--names", "--no-stats", "dump-flows", mgmt)
	for _, want := range []string{"table=Classifier, priority=1 actions=goto_table:ARPResponder", "table=ARPResponder, priority=1 actions=drop"} {
		if !strings.Contains(named, want) {
			t.Errorf("dump-flows --names has no %q:\n%s", want, named)
		}
	}
	if plain := inst.Ofctl(t, "--no-names", "--no-stats", "dump-flows", mgmt); !strings.Contains(plain, "table=10, priority=1 actions=drop") {
		t.Errorf("dump-flows --no-names:\n%s", plain)
	}
	if got := inst.Vsctl(t, "--columns=name", "--bare", "list", "Flow_Table"); sortedLines(got) != "ARPResponder\nClassifier" {
		t.Errorf("Flow_Table names = %q", got)
	}

	n := c.Transactions()
	if err := vs.EnsureBridge(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if d := c.Transactions() - n; d != 0 {
		t.Errorf("EnsureBridge with the same tables sent %d transactions, want 0", d)
	}

	spec.FlowTables = map[uint8]string{0: "Classify", 20: "Conntrack"} // rename 0, drop 10, add 20
	if err := vs.EnsureBridge(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := inst.Vsctl(t, "--columns=name", "--bare", "list", "Flow_Table"); sortedLines(got) != "Classify\nConntrack" {
		t.Errorf("Flow_Table names after the change = %q (rows no bridge references must be gone)", got)
	}
	if got := inst.Ofctl(t, "--names", "--no-stats", "dump-flows", mgmt, "table=Classify"); !strings.Contains(got, "goto_table:10") {
		t.Errorf("table 10 still named, or table 0 not renamed:\n%s", got)
	}

	spec.FlowTables = nil
	n = c.Transactions()
	if err := vs.EnsureBridge(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if d := c.Transactions() - n; d != 0 {
		t.Errorf("EnsureBridge without FlowTables sent %d transactions, want 0", d)
	}
}

func sortedLines(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
