package podif

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// TestPrepareThenConfigure: Prepare makes the pair without an address (host
// end up with ARP off, pod end down); Configure then finishes that same
// pair (reused: same host ifindex) into what Configure alone makes, which
// Check confirms. A repeated Prepare keeps the pair.
func TestPrepareThenConfigure(t *testing.T) {
	l := newLab(t)
	pod := podiftest.NewNetNS(t, "kfp")
	spec := l.spec(pod, "c1", "10.200.1.5/24", "10.200.1.1")
	early := PodIfaceSpec{NetNSPath: spec.NetNSPath, HostIfName: spec.HostIfName, MTU: spec.MTU}
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := l.p.Prepare(ctx, early); err != nil {
			t.Fatalf("Prepare #%d: %v", i+1, err)
		}
	}
	hh, ph := handle(t, l.host), handle(t, pod)
	hl, err := hh.LinkByName(spec.HostIfName)
	if err != nil {
		t.Fatalf("host end after Prepare: %v", err)
	}
	if f := hl.Attrs().RawFlags; f&unix.IFF_UP == 0 || f&unix.IFF_NOARP == 0 || hl.Attrs().MTU != 1400 {
		t.Errorf("host end after Prepare: flags %#x MTU %d, want up, NOARP, 1400", f, hl.Attrs().MTU)
	}
	eth0, err := ph.LinkByName("eth0")
	if err != nil {
		t.Fatalf("pod end after Prepare: %v", err)
	}
	if eth0.Attrs().RawFlags&unix.IFF_UP != 0 {
		t.Error("pod end up before it has an address")
	}
	res, err := l.p.Configure(ctx, spec)
	if err != nil {
		t.Fatalf("Configure after Prepare: %v", err)
	}
	if !res.Reused || res.HostIfIndex != hl.Attrs().Index || res.PodMAC.String() != "0a:58:0a:c8:01:05" {
		t.Errorf("Configure after Prepare: %+v, want the prepared pair (host index %d) with the MAC of its IP", res, hl.Attrs().Index)
	}
	if err := l.p.Check(ctx, spec); err != nil {
		t.Errorf("Check after Prepare + Configure: %v", err)
	}
}
