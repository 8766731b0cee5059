package ovsdb

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/ovs/ovstest"
)

// testTimeout bounds every wait in the integration tests (a hang guard, not
// a performance threshold).
const testTimeout = 30 * time.Second

// startOVS runs a private OVS and connects a client and a VSwitch to it.
func startOVS(t testing.TB, opts Options) (*ovstest.Instance, *Client, *VSwitch) {
	t.Helper()
	inst := ovstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := Dial(ctx, "unix:"+inst.DBSock, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	vs, err := NewVSwitch(ctx, c, VSwitchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return inst, c, vs
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func brIntSpec() BridgeSpec {
	return BridgeSpec{Name: "br-int", DatapathType: "netdev", FailMode: "secure",
		Protocols:   []string{"OpenFlow10", "OpenFlow13", "OpenFlow15"},
		OtherConfig: map[string]string{"datapath-id": "00000000000000a1"},
		ExternalIDs: map[string]string{"kubefay": "br-int"}}
}

func TestVSwitchBridge(t *testing.T) {
	inst, c, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	spec := brIntSpec()
	if err := vs.EnsureBridge(ctx, spec); err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"datapath_type":            "netdev",
		"fail_mode":                "secure",
		"protocols":                "[OpenFlow10, OpenFlow13, OpenFlow15]",
		"other_config:datapath-id": `"00000000000000a1"`,
		"external_ids:kubefay":     "br-int",
	}
	for col, want := range checks {
		if got := inst.Vsctl(t, "get", "bridge", "br-int", col); got != want {
			t.Errorf("bridge %s = %s, want %s", col, got, want)
		}
	}
	if got := inst.Vsctl(t, "list-ports", "br-int"); got != "" {
		t.Errorf("list-ports = %q, want none (LOCAL port is not listed)", got)
	}
	if got := inst.Vsctl(t, "get", "interface", "br-int", "type"); got != "internal" {
		t.Errorf("LOCAL interface type = %q", got)
	}
	n := c.Transactions()
	if err := vs.EnsureBridge(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if d := c.Transactions() - n; d != 0 {
		t.Errorf("second EnsureBridge sent %d transactions, want 0", d)
	}
	// Someone changes the bridge behind our back: EnsureBridge corrects it
	// and keeps foreign keys.
	inst.Vsctl(t, "set", "bridge", "br-int", "fail_mode=standalone", "external_ids:kubefay=other", "external_ids:foreign=1")
	// the change reaches our monitor cache asynchronously: correct what we have seen
	if err := vs.Cache().WaitFor(ctx, func() bool {
		br, ok := vs.Cache().RowByName(TableBridge, "br-int")
		return ok && br.String("fail_mode") == "standalone" && br.StringMap("external_ids")["foreign"] == "1"
	}); err != nil {
		br, _ := vs.Cache().RowByName(TableBridge, "br-int")
		t.Fatalf("monitor never saw the change: %v (cache: fail_mode=%#v external_ids=%v)", err, br["fail_mode"], br.StringMap("external_ids"))
	}
	if err := vs.EnsureBridge(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if got := inst.Vsctl(t, "get", "bridge", "br-int", "fail_mode"); got != "secure" {
		t.Errorf("fail_mode after correction = %s", got)
	}
	if got := inst.Vsctl(t, "get", "bridge", "br-int", "external_ids"); got != `{foreign="1", kubefay=br-int}` {
		t.Errorf("external_ids after correction = %s", got)
	}
	// The bridge works for OpenFlow (ovs-vswitchd created it).
	inst.Ofctl(t, "add-flow", inst.MgmtSock("br-int"), "table=0,priority=1,actions=drop")
}

func TestVSwitchPorts(t *testing.T) {
	inst, c, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	if err := vs.EnsureBridge(ctx, brIntSpec()); err != nil {
		t.Fatal(err)
	}
	tun := PortSpec{Name: "tun0", Type: "vxlan", Options: map[string]string{"remote_ip": "flow", "key": "flow"},
		OFPortRequest: 1, ExternalIDs: map[string]string{"kubefay-type": "tunnel"}}
	gw := PortSpec{Name: "gw0", Type: "internal", OFPortRequest: 2, MTURequest: 1450,
		ExternalIDs: map[string]string{"kubefay-type": "gateway", "ip": "198.18.1.1"}}
	for _, p := range []PortSpec{tun, gw} {
		if err := vs.EnsurePort(ctx, "br-int", p); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]int{"tun0": 1, "gw0": 2} {
		got, err := vs.WaitOFPort(ctx, name)
		if err != nil || got != want {
			t.Fatalf("WaitOFPort(%s) = %d, %v; want %d", name, got, err, want)
		}
		if s := inst.Vsctl(t, "get", "interface", name, "ofport"); s != strconv.Itoa(want) {
			t.Errorf("ovs-vsctl ofport of %s = %s", name, s)
		}
	}
	if got := inst.Vsctl(t, "get", "interface", "tun0", "options"); got != `{key=flow, remote_ip=flow}` {
		t.Errorf("tun0 options = %s", got)
	}
	if got := inst.Vsctl(t, "get", "interface", "gw0", "mtu_request"); got != "1450" {
		t.Errorf("gw0 mtu_request = %s", got)
	}
	if got := inst.Vsctl(t, "get", "interface", "gw0", "external_ids:ip"); got != `"198.18.1.1"` {
		t.Errorf("gw0 external_ids:ip = %s", got)
	}

	n := c.Transactions()
	for _, p := range []PortSpec{tun, gw} {
		if err := vs.EnsurePort(ctx, "br-int", p); err != nil {
			t.Fatal(err)
		}
	}
	if d := c.Transactions() - n; d != 0 {
		t.Errorf("repeated EnsurePort sent %d transactions, want 0", d)
	}

	// Changes: options exact, external_ids merged, mtu_request removed.
	inst.Vsctl(t, "set", "interface", "gw0", "external_ids:foreign=x")
	tun.Options = map[string]string{"remote_ip": "flow", "key": "100"}
	gw.MTURequest = 0
	gw.ExternalIDs = map[string]string{"ip": "198.18.1.2"}
	for _, p := range []PortSpec{tun, gw} {
		if err := vs.EnsurePort(ctx, "br-int", p); err != nil {
			t.Fatal(err)
		}
	}
	if got := inst.Vsctl(t, "get", "interface", "tun0", "options"); got != `{key="100", remote_ip=flow}` {
		t.Errorf("tun0 options after change = %s", got)
	}
	if got := inst.Vsctl(t, "get", "interface", "gw0", "mtu_request"); got != "[]" {
		t.Errorf("gw0 mtu_request after unset = %s", got)
	}
	if got := inst.Vsctl(t, "get", "interface", "gw0", "external_ids"); got != `{foreign=x, ip="198.18.1.2", kubefay-type=gateway}` {
		t.Errorf("gw0 external_ids = %s", got)
	}

	ports, err := vs.ListPorts(ctx, "br-int")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ports {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "br-int,gw0,tun0" {
		t.Fatalf("ListPorts names = %v", names)
	}
	g := ports[1]
	if len(g.Interfaces) != 1 || g.Interfaces[0].OFPort != 2 || g.Interfaces[0].Type != "internal" ||
		g.Interfaces[0].ExternalIDs["foreign"] != "x" || g.ExternalIDs["ip"] != "198.18.1.2" || g.Interfaces[0].Error != "" {
		t.Errorf("ListPorts gw0 = %+v", g)
	}

	if err := vs.DeletePort(ctx, "br-int", "tun0"); err != nil {
		t.Fatal(err)
	}
	if got := inst.Vsctl(t, "list-ports", "br-int"); got != "gw0" {
		t.Errorf("list-ports after delete = %q", got)
	}
	if got := inst.Vsctl(t, "--columns=name", "find", "interface", "name=tun0"); got != "" {
		t.Errorf("tun0 interface row left: %q", got)
	}
	n = c.Transactions()
	if err := vs.DeletePort(ctx, "br-int", "tun0"); err != nil {
		t.Fatalf("deleting a missing port: %v", err)
	}
	if d := c.Transactions() - n; d != 0 {
		t.Errorf("deleting a missing port sent %d transactions", d)
	}
	if err := vs.EnsurePort(ctx, "br-missing", gw); !errors.Is(err, ErrNotFound) {
		t.Errorf("EnsurePort on a missing bridge: %v, want ErrNotFound", err)
	}
}

func TestVSwitchPortOnOtherBridge(t *testing.T) {
	_, _, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	for _, b := range []string{"br-a", "br-b"} {
		if err := vs.EnsureBridge(ctx, BridgeSpec{Name: b, DatapathType: "netdev"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := vs.EnsurePort(ctx, "br-a", PortSpec{Name: "p1", Type: "internal"}); err != nil {
		t.Fatal(err)
	}
	if err := vs.EnsurePort(ctx, "br-b", PortSpec{Name: "p1", Type: "internal"}); err == nil || !strings.Contains(err.Error(), "belongs to bridge br-a") {
		t.Errorf("EnsurePort on the wrong bridge: %v", err)
	}
	if err := vs.DeletePort(ctx, "br-b", "p1"); err == nil {
		t.Error("DeletePort on the wrong bridge succeeded")
	}
}

func TestWaitOFPortInterfaceError(t *testing.T) {
	_, _, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	if err := vs.EnsureBridge(ctx, BridgeSpec{Name: "br-int", DatapathType: "netdev"}); err != nil {
		t.Fatal(err)
	}
	// A system interface whose device does not exist: ovs-vswitchd fails it.
	if err := vs.EnsurePort(ctx, "br-int", PortSpec{Name: "nodev0"}); err != nil {
		t.Fatal(err)
	}
	_, err := vs.WaitOFPort(ctx, "nodev0")
	var ie *InterfaceError
	if !errors.As(err, &ie) || !strings.Contains(ie.Message, "nodev0") {
		t.Fatalf("WaitOFPort = %v, want an InterfaceError about nodev0", err)
	}
	t.Logf("interface error: %v", err)
}

func TestWaitOFPortBeforeThePortExists(t *testing.T) {
	inst, _, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	inst.AddBridge(t, "br-int")
	got := make(chan int, 1)
	go func() {
		n, err := vs.WaitOFPort(ctx, "late0")
		if err != nil {
			t.Error(err)
		}
		got <- n
	}()
	// Two more monitors on the same client: a plain "monitor" (update
	// notifications) and a "monitor_cond" whose where clause selects late0.
	v1, err := vs.Client().Monitor(ctx, MonitorSpec{DB: VSwitchDB, Tables: map[string]MonitorRequest{
		TableInterface: {Columns: []string{"name", "ofport"}}}})
	if err != nil {
		t.Fatal(err)
	}
	cond, err := vs.Client().Monitor(ctx, MonitorSpec{DB: VSwitchDB, Conditional: true, Tables: map[string]MonitorRequest{
		TableInterface: {Columns: []string{"name", "ofport"}, Where: []Condition{Where("name", "==", "late0")}}}})
	if err != nil {
		t.Fatal(err)
	}
	inst.Vsctl(t, "add-port", "br-int", "late0", "--", "set", "interface", "late0", "type=internal", "ofport_request=7")
	if n := <-got; n != 7 {
		t.Fatalf("WaitOFPort = %d, want 7", n)
	}
	for _, m := range []*Monitor{v1, cond} {
		err := m.Cache().WaitFor(ctx, func() bool {
			r, ok := m.Cache().RowByName(TableInterface, "late0")
			n, _ := r.Int("ofport")
			return ok && n == 7
		})
		if err != nil {
			t.Fatalf("monitor %s: %v", m.ID(), err)
		}
	}
	if rows := v1.Cache().Rows(TableInterface); len(rows) != 2 { // br-int and late0
		t.Errorf("plain monitor sees %d interfaces, want 2", len(rows))
	}
	if rows := cond.Cache().Rows(TableInterface); len(rows) != 1 {
		t.Errorf("conditional monitor sees %d interfaces, want 1 (where name == late0)", len(rows))
	}
	if err := cond.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if cond.Cache().Synced() {
		t.Error("cancelled monitor still synced")
	}
}

func TestReconnectAfterOVSDBRestart(t *testing.T) {
	reconnected := make(chan struct{}, 4)
	var vsp atomic.Pointer[VSwitch]
	loadsAtCallback := make(chan int, 4)
	inst, c, vs := startOVS(t, Options{OnReconnect: func() {
		c := vsp.Load().Cache()
		c.mu.RLock()
		loadsAtCallback <- c.loads
		c.mu.RUnlock()
		reconnected <- struct{}{}
	}, MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	vsp.Store(vs)
	ctx := testCtx(t)
	if err := vs.EnsureBridge(ctx, brIntSpec()); err != nil {
		t.Fatal(err)
	}
	if err := vs.EnsurePort(ctx, "br-int", PortSpec{Name: "gw0", Type: "internal", OFPortRequest: 2}); err != nil {
		t.Fatal(err)
	}
	oldGen := vs.Cache().Generation()

	inst.RestartOVSDB(t)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("no reconnect callback")
	}
	if loads := <-loadsAtCallback; loads != 2 {
		t.Errorf("cache loads when the callback ran = %d, want 2 (initial + after reconnect)", loads)
	}
	if c.Reconnects() != 1 {
		t.Errorf("Reconnects() = %d", c.Reconnects())
	}
	cache := vs.Cache()
	if !cache.Synced() || cache.Generation() <= oldGen {
		t.Errorf("cache synced=%v generation %d -> %d", cache.Synced(), oldGen, cache.Generation())
	}
	if _, ok := cache.RowByName(TableInterface, "gw0"); !ok {
		t.Error("gw0 missing from the re-populated cache")
	}
	// The monitor delivers updates again, and transactions work.
	inst.Vsctl(t, "add-port", "br-int", "p9", "--", "set", "interface", "p9", "type=internal", "ofport_request=9")
	if n, err := vs.WaitOFPort(ctx, "p9"); err != nil || n != 9 {
		t.Fatalf("WaitOFPort(p9) after reconnect = %d, %v", n, err)
	}
	if err := vs.EnsurePort(ctx, "br-int", PortSpec{Name: "p10", Type: "internal", OFPortRequest: 10}); err != nil {
		t.Fatal(err)
	}
	if n, err := vs.WaitOFPort(ctx, "p10"); err != nil || n != 10 {
		t.Fatalf("WaitOFPort(p10) after reconnect = %d, %v", n, err)
	}
}

// TestClearFlowRestoreWait: the key set by an OVS start-up is seen and
// removed (other keys kept); clearing an absent key sends nothing.
func TestClearFlowRestoreWait(t *testing.T) {
	inst, c, vs := startOVS(t, Options{})
	ctx := testCtx(t)
	if vs.FlowRestoreWait() {
		t.Fatal("flow-restore-wait reported on a fresh switch")
	}
	inst.Vsctl(t, "set", "Open_vSwitch", ".", "other_config:flow-restore-wait=true", "other_config:foreign=1")
	if err := vs.Cache().WaitFor(ctx, vs.FlowRestoreWait); err != nil {
		t.Fatalf("monitor never saw flow-restore-wait: %v", err)
	}
	if err := vs.ClearFlowRestoreWait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := inst.Vsctl(t, "get", "Open_vSwitch", ".", "other_config"); got != `{foreign="1"}` {
		t.Errorf("other_config after clearing = %s", got)
	}
	if vs.FlowRestoreWait() {
		t.Error("still reported after clearing")
	}
	n := c.Transactions()
	if err := vs.ClearFlowRestoreWait(ctx); err != nil {
		t.Fatal(err)
	}
	if d := c.Transactions() - n; d != 0 {
		t.Errorf("clearing an absent key sent %d transactions", d)
	}
}
