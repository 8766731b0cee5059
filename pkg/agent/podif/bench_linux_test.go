package podif

import (
	"context"
	"encoding/hex"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// createThenMove is the baseline pair creator: both ends are created in the
// host namespace (the pod end under a temporary name), then the pod end is
// moved into the pod namespace and renamed there, as many CNI plugins do.
func createThenMove(r *pairRequest) (netlink.Link, netlink.Link, error) {
	tmp := "kft" + hex.EncodeToString(RandomMAC()[2:])
	attrs := netlink.NewLinkAttrs()
	attrs.Name = r.hostName
	attrs.HardwareAddr = r.hostMAC
	attrs.MTU = r.mtu
	veth := netlink.NewVeth(attrs)
	veth.PeerName = tmp
	veth.PeerHardwareAddr = r.podMAC
	if err := r.host.h.LinkAdd(veth); err != nil {
		return nil, nil, err
	}
	peer, err := r.host.h.LinkByName(tmp)
	if err != nil {
		return veth, nil, err
	}
	if err := r.host.h.LinkSetNsFd(peer, int(r.podNS)); err != nil {
		return veth, nil, err
	}
	moved, err := r.podH.LinkByName(tmp)
	if err != nil {
		return veth, nil, err
	}
	if err := r.podH.LinkSetName(moved, r.podName); err != nil {
		return veth, nil, err
	}
	podLink, err := r.podH.LinkByName(r.podName)
	return veth, podLink, err
}

// BenchmarkConfigureTeardown measures Configure and Teardown of one pod
// interface (IPv4, default route, TX checksum off, gratuitous ARP), with the
// pod end created directly in the pod namespace (what Configure does) and,
// as the baseline of the same run, created in the host namespace then moved.
// Reported: p50 and p90 of each phase in milliseconds.
func BenchmarkConfigureTeardown(b *testing.B) {
	podiftest.Require(b)
	for _, c := range []struct {
		name   string
		create pairCreator
	}{{"peer-in-podns", nil}, {"create-then-move", createThenMove}} {
		b.Run(c.name, func(b *testing.B) {
			host := podiftest.NewNetNS(b, "kfh")
			pod := podiftest.NewNetNS(b, "kfp")
			p := &Plumber{HostNetNSPath: host.Path, createPair: c.create}
			spec := PodIfaceSpec{
				NetNSPath: pod.Path, HostIfName: HostIfName("bench", "eth0"), MTU: 1450,
				IP: netip.MustParsePrefix("10.200.9.5/24"), Gateway: netip.MustParseAddr("10.200.9.1"), DisableTxChecksum: true,
			}
			ctx := context.Background()
			var conf, down, total []time.Duration
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if _, err := p.Configure(ctx, spec); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := p.Teardown(ctx, spec.HostIfName); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				conf, down, total = append(conf, t1.Sub(t0)), append(down, t2.Sub(t1)), append(total, t2.Sub(t0))
			}
			b.StopTimer()
			b.ReportMetric(pct(conf, 50), "configure-p50-ms")
			b.ReportMetric(pct(conf, 90), "configure-p90-ms")
			b.ReportMetric(pct(down, 50), "teardown-p50-ms")
			b.ReportMetric(pct(total, 50), "total-p50-ms")
		})
	}
}

// pct returns the p-th percentile of ds in milliseconds.
func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return float64(s[i].Microseconds()) / 1000
}
