package ovsdb

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkAddPortWaitOFPort adds one internal port and waits until it has
// an ofport, three ways, on the same OVS in the same run:
//   - client: EnsurePort (waits for cur_cfg like ovs-vsctl) + WaitOFPort;
//   - client-nowait: EnsurePort with NoWait + WaitOFPort (monitor-driven);
//   - vsctl: exec ovs-vsctl add-port (which waits for cur_cfg).
//
// Ports are deleted after each iteration (untimed) so the bridge size stays
// constant. Metrics are milliseconds per port and the ratios to ovs-vsctl.
func BenchmarkAddPortWaitOFPort(b *testing.B) {
	inst, c, vs := startOVS(b, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	noWait, err := NewVSwitch(ctx, c, VSwitchOptions{NoWait: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := vs.EnsureBridge(ctx, BridgeSpec{Name: "br-int", DatapathType: "netdev", FailMode: "secure"}); err != nil {
		b.Fatal(err)
	}
	addOurs := func(v *VSwitch, name string) {
		if err := v.EnsurePort(ctx, "br-int", PortSpec{Name: name, Type: "internal"}); err != nil {
			b.Fatal(err)
		}
		if _, err := v.WaitOFPort(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
	var ours, oursNoWait, vsctl time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		names := [3]string{fmt.Sprintf("kf%d", i), fmt.Sprintf("kn%d", i), fmt.Sprintf("vs%d", i)}
		steps := [3]func(){
			func() { t0 := time.Now(); addOurs(vs, names[0]); ours += time.Since(t0) },
			func() { t0 := time.Now(); addOurs(noWait, names[1]); oursNoWait += time.Since(t0) },
			func() {
				t0 := time.Now()
				inst.Vsctl(b, "add-port", "br-int", names[2], "--", "set", "interface", names[2], "type=internal")
				vsctl += time.Since(t0)
			},
		}
		for k := 0; k < 3; k++ { // rotate the order to avoid a systematic bias
			steps[(i+k)%3]()
		}
		b.StopTimer()
		for _, n := range names {
			if err := vs.DeletePort(ctx, "br-int", n); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
	b.ReportMetric(ms(ours), "client-ms/port")
	b.ReportMetric(ms(oursNoWait), "client-nowait-ms/port")
	b.ReportMetric(ms(vsctl), "vsctl-ms/port")
	b.ReportMetric(float64(ours)/float64(vsctl), "client/vsctl")
	b.ReportMetric(float64(oursNoWait)/float64(vsctl), "client-nowait/vsctl")
}
