package openflow_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovstest"
)

// startBridge starts a throw-away OVS with br-int and connects to it.
func startBridge(t testing.TB, cfg openflow.Config) (*ovstest.Instance, *openflow.Conn) {
	t.Helper()
	inst := ovstest.Start(t)
	inst.AddBridge(t, "br-int")
	cfg.Target = "unix:" + inst.MgmtSock("br-int")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := openflow.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return inst, c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ofctlFlows returns ovs-ofctl's --no-stats dump, one trimmed line per flow.
func ofctlFlows(t testing.TB, inst *ovstest.Instance, args ...string) []string {
	out := inst.Ofctl(t, append([]string{"dump-flows", inst.MgmtSock("br-int"), "--no-stats"}, args...)...)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

func flowStrings(flows []*openflow.Flow) []string {
	s := make([]string, len(flows))
	for i, f := range flows {
		s[i] = f.String()
	}
	sort.Strings(s)
	return s
}

func diffLists(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d entries, want %d", what, len(got), len(want))
	}
	shown := 0
	for i := 0; i < len(got) && i < len(want) && shown < 10; i++ {
		if got[i] != want[i] {
			t.Errorf("%s: entry %d\n got %s\nwant %s", what, i, got[i], want[i])
			shown++
		}
	}
}

func TestHandshakeEchoBarrierTableStats(t *testing.T) {
	_, c := startBridge(t, openflow.Config{})
	ctx := testCtx(t)
	f, err := c.Features()
	if err != nil || f.DatapathID == 0 || f.NTables == 0 {
		t.Fatalf("features = %+v, %v", f, err)
	}
	if _, err := c.Echo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.NewBundle().AddFlows(openflow.NewFlow(0).Priority(1).Drop()).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	ts, err := c.TableStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) < 254 || ts[0].ActiveCount != 1 {
		t.Fatalf("table stats: %d tables, table 0 has %d flows", len(ts), ts[0].ActiveCount)
	}
}

// TestInstalledFlowsDecode installs every oracle flow and checks that
// decoding OVS's flow stats gives back exactly the text OVS prints.
func TestInstalledFlowsDecode(t *testing.T) {
	inst, c := startBridge(t, openflow.Config{})
	ctx := testCtx(t)
	b := c.NewBundle()
	var want []string
	seen := map[string]bool{}
	for _, fc := range openflow.OracleFlowCases() {
		if fc.NeedsGroup || seen[fc.Flow.Key()] {
			continue
		}
		seen[fc.Flow.Key()] = true
		b.AddFlows(fc.Flow)
		want = append(want, fc.Want)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	flows, err := c.DumpFlows(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	diffLists(t, "our decode vs desired", flowStrings(flows), want)
	diffLists(t, "ovs-ofctl dump-flows vs desired", ofctlFlows(t, inst), want)
}

func manyFlows(n int, cookie uint64) []*openflow.Flow {
	flows := make([]*openflow.Flow, n)
	for i := range flows {
		dst := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		b := openflow.NewFlow(uint8(i % 8)).Priority(uint16(100 + i%50)).Cookie(cookie | uint64(i%4)).
			MatchIPv4Dst(dst).Match(func(m *openflow.Match) { m.Reg(0, uint32(i)) })
		switch i % 4 {
		case 0:
			flows[i] = b.Actions(openflow.LoadReg(1, uint32(i), 0, 15), openflow.GotoTable(20))
		case 1:
			flows[i] = b.Match(func(m *openflow.Match) { m.TCPDst(uint16(i)) }).Actions(openflow.CT().Commit().ZoneImm(uint16(i)).Exec(openflow.SetCTMark(uint32(i))), openflow.Output(uint32(i%100+1)))
		case 2:
			flows[i] = b.Actions(openflow.SetTunDst(dst), openflow.SetTunID(uint64(i)), openflow.Output(1))
		default:
			flows[i] = b.Drop()
		}
	}
	return flows
}

func TestBundle10kFlowsDumpAndDeleteByCookie(t *testing.T) {
	inst, c := startBridge(t, openflow.Config{})
	ctx := testCtx(t)
	const n = 10000
	flows := manyFlows(n, 0xabc0)
	b := c.NewBundle()
	b.AddFlows(flows...)
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := c.DumpFlows(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("dumped %d flows, want %d", len(got), n)
	}
	want := flowStrings(flows)
	ours := flowStrings(got)
	diffLists(t, "decoded vs desired", ours, want)
	diffLists(t, "ovs-ofctl vs ours", ofctlFlows(t, inst), ours)

	// Desired-vs-installed diff by Key finds nothing to do.
	installed := map[string]*openflow.Flow{}
	for _, f := range got {
		installed[f.Key()] = f
	}
	for _, f := range flows {
		if g, ok := installed[f.Key()]; !ok || !g.Equal(f) {
			t.Fatalf("flow %s not installed as desired (got %v)", f, g)
		}
	}

	// Filters: one table, and a cookie mask.
	t3, err := c.DumpFlows(ctx, &openflow.FlowFilter{Table: 3})
	if err != nil || len(t3) != n/8 {
		t.Fatalf("table 3: %d flows, %v", len(t3), err)
	}
	ck, err := c.DumpFlows(ctx, &openflow.FlowFilter{Table: openflow.TableAll, Cookie: 0xabc2, CookieMask: 0xffff})
	if err != nil || len(ck) != n/4 {
		t.Fatalf("cookie 0xabc2: %d flows, %v", len(ck), err)
	}

	// Delete by cookie mask: cookies 0xabc0..0xabc3, delete 0xabc2 and 0xabc3.
	if err := c.FlowMods(ctx, openflow.DeleteByCookie(0xabc2, 0xfffe)); err != nil {
		t.Fatal(err)
	}
	left, err := c.DumpFlows(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != n/2 {
		t.Fatalf("%d flows left after delete by cookie, want %d", len(left), n/2)
	}
	for _, f := range left {
		if f.Cookie&0xfffe == 0xabc2 {
			t.Fatalf("flow %s survived the delete", f)
		}
	}
}

func TestBundleIsAtomic(t *testing.T) {
	inst, c := startBridge(t, openflow.Config{})
	ctx := testCtx(t)
	good := manyFlows(100, 0x1)
	// goto_table must go forward: table 5 -> 2 is refused when added.
	bad := openflow.NewFlow(5).Priority(1).MatchIP().Actions(openflow.GotoTable(2))
	b := c.NewBundle()
	b.AddFlows(good[:50]...)
	b.AddFlows(bad)
	b.AddFlows(good[50:]...)
	err := b.Commit(ctx)
	var be *openflow.BundleError
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[0].Index != 50 {
		t.Fatalf("commit error = %v, want one failure at index 50", err)
	}
	if name := be.Failed[0].Err.Name(); name != "OFPBIC_BAD_TABLE_ID" {
		t.Fatalf("failure %s, want OFPBIC_BAD_TABLE_ID", name)
	}
	if got := ofctlFlows(t, inst); len(got) != 0 {
		t.Fatalf("%d flows installed by a rejected bundle", len(got))
	}

	// A message that only fails when applied (an overlapping flow with
	// check_overlap) makes the commit fail and rolls back the rest.
	if err := c.NewBundle().AddFlows(openflow.NewFlow(1).Priority(10).MatchIP().Drop()).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	overlap := openflow.NewFlow(1).Priority(10).MatchIPv4Dst(netip.MustParseAddr("10.0.0.1")).Flags(openflow.FlagCheckOverlap).Drop()
	err = c.NewBundle().AddFlows(good...).AddFlows(overlap).Commit(ctx)
	if !errors.As(err, &be) || !errors.Is(err, &openflow.Error{Type: openflow.ErrBundleFailed, Code: openflow.CodeBundleMsgFailed}) {
		t.Fatalf("commit error = %v, want OFPBFC_MSG_FAILED", err)
	}
	if len(be.Failed) != 1 || be.Failed[0].Index != 100 || be.Failed[0].Err.Name() != "OFPFMFC_OVERLAP" {
		t.Fatalf("failures = %+v, want OFPFMFC_OVERLAP at 100", be.Failed)
	}
	if got := ofctlFlows(t, inst); len(got) != 1 {
		t.Fatalf("%d flows after a failed commit, want the 1 from before:\n%s", len(got), strings.Join(got, "\n"))
	}
}

func TestFlowModsReportErrors(t *testing.T) {
	_, c := startBridge(t, openflow.Config{})
	ctx := testCtx(t)
	err := c.FlowMods(ctx,
		openflow.AddFlow(openflow.NewFlow(0).Priority(5).Drop()),
		openflow.AddFlow(openflow.NewFlow(0).Priority(6).MatchIP().Actions(openflow.DecTTL())),
		openflow.AddFlow(openflow.NewFlow(0).Priority(7).Actions(openflow.DecTTL())), // dec_ttl needs ip
	)
	var be *openflow.BundleError
	if !errors.As(err, &be) || len(be.Failed) != 1 || be.Failed[0].Index != 2 ||
		be.Failed[0].Err.Name() != "OFPBAC_MATCH_INCONSISTENT" {
		t.Fatalf("err = %v", err)
	}
	flows, err := c.DumpFlows(ctx, nil)
	if err != nil || len(flows) != 2 {
		t.Fatalf("flows = %v, %v", flows, err)
	}
}

func TestReconnectReinstallsFlows(t *testing.T) {
	var connects atomic.Int32
	reconnected := make(chan struct{}, 4)
	desired := manyFlows(200, 0x77)
	cfg := openflow.Config{
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		OnConnect: func(ctx context.Context, c *openflow.Conn) error {
			b := c.NewBundle()
			b.Add(openflow.DeleteByCookie(0, 0))
			b.AddFlows(desired...)
			if err := b.Commit(ctx); err != nil {
				return err
			}
			if connects.Add(1) > 1 {
				reconnected <- struct{}{}
			}
			return nil
		},
	}
	inst, c := startBridge(t, cfg)
	if got := ofctlFlows(t, inst); len(got) != len(desired) {
		t.Fatalf("%d flows after connect, want %d", len(got), len(desired))
	}
	inst.RestartVswitchd(t)
	select {
	case <-reconnected:
	case <-time.After(30 * time.Second):
		t.Fatalf("OnConnect did not run again after the restart (stats %+v)", c.Stats())
	}
	if got := ofctlFlows(t, inst); len(got) != len(desired) {
		t.Fatalf("%d flows after reconnect, want %d", len(got), len(desired))
	}
	if st := c.Stats(); st.Connects < 2 || st.Disconnects < 1 {
		t.Fatalf("stats %+v", st)
	}
	ctx := testCtx(t)
	if err := c.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPacketOutPacketIn(t *testing.T) {
	pins := make(chan *openflow.PacketIn, 4)
	_, c := startBridge(t, openflow.Config{OnPacketIn: func(p *openflow.PacketIn) { pins <- p }})
	ctx := testCtx(t)
	f := openflow.NewFlow(0).Priority(100).Cookie(0x5eed).Match(func(m *openflow.Match) { m.UDPDst(9999) }).
		Actions(openflow.LoadReg(3, 0x42, 0, 15), openflow.OutputController(0xffff))
	if err := c.NewBundle().AddFlows(f).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	pkt := udpPacket(9999)
	if err := c.SendPacketOut(ctx, &openflow.PacketOut{InPort: openflow.PortController,
		Actions: []openflow.Action{openflow.ResubmitTable(0)}, Data: pkt}); err != nil {
		t.Fatal(err)
	}
	if err := c.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-pins:
		if p.Cookie != 0x5eed || p.Table != 0 || string(p.Data) != string(pkt) {
			t.Fatalf("packet-in cookie %#x table %d data %x", p.Cookie, p.Table, p.Data)
		}
		if !strings.Contains(p.Match.String(), "reg3=0x42") {
			t.Fatalf("packet-in metadata %s lacks reg3=0x42", p.Match.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no packet-in")
	}
}

// udpPacket builds an Ethernet/IPv4/UDP frame to dstPort.
func udpPacket(dstPort uint16) []byte {
	p := []byte{
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, // ethernet
		0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // ipv4
		0x30, 0x39, byte(dstPort >> 8), byte(dstPort), 0, 12, 0, 0, // udp
		'k', 'f', 'a', 'y',
	}
	var sum uint32
	for i := 14; i < 34; i += 2 {
		sum += uint32(p[i])<<8 | uint32(p[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	cs := ^uint16(sum)
	p[24], p[25] = byte(cs>>8), byte(cs)
	return p
}

func ExampleNewFlow() {
	f := openflow.NewFlow(10).Priority(200).Cookie(0x5).
		MatchInPort(3).MatchIPv4Dst(netip.MustParseAddr("10.0.0.2")).
		Actions(openflow.LoadReg(0, 0x1, 0, 15), openflow.GotoTable(70))
	fmt.Println(f)
	// Output: cookie=0x5, table=10, priority=200,ip,in_port=3,nw_dst=10.0.0.2 actions=set_field:0x1/0xffff->reg0,goto_table:70
}
