package ovstest

import (
	"strings"
	"testing"
)

func TestStartAddBridgeRestart(t *testing.T) {
	inst := Start(t)
	inst.AddBridge(t, "br-int")
	if got := inst.Vsctl(t, "get", "bridge", "br-int", "datapath_type"); got != "netdev" {
		t.Fatalf("datapath_type = %q, want netdev", got)
	}
	inst.Ofctl(t, "add-flow", inst.MgmtSock("br-int"), "table=0,priority=10,actions=drop")
	inst.RestartVswitchd(t)
	inst.AddBridge(t, "br-int") // waits for the management socket again
	if out := inst.Ofctl(t, "dump-flows", inst.MgmtSock("br-int")); strings.Contains(out, "priority=10") {
		t.Fatalf("flows survived an ovs-vswitchd restart:\n%s", out)
	}
}
