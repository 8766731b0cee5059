package cni_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// BenchmarkPodAddDel measures one pod's ADD and DEL the way containerd runs
// them (exec of kubefay-cni, unix socket round trip to the agent, podif
// plumbing) against the baseline of the same plumbing called in-process.
// The difference is what the binary and the wire protocol cost. Reported:
// p50 of each phase in milliseconds.
func BenchmarkPodAddDel(b *testing.B) {
	e := newEnv(b, "10.200.23.")
	pod := podiftest.NewNetNS(b, "kfp")
	id := randomID()
	args := k8sArgs("default", "bench", id)
	conf := pluginConf("1.1.0", e.socket)

	b.Run("exec-binary", func(b *testing.B) {
		var add, del []time.Duration
		for range b.N {
			t0 := time.Now()
			if out, code := e.run(invocation{command: "ADD", containerID: id, netns: pod.Path, ifName: "eth0", args: args, stdin: conf}); code != 0 {
				b.Fatalf("ADD: %s", out)
			}
			t1 := time.Now()
			if out, code := e.run(invocation{command: "DEL", containerID: id, netns: pod.Path, ifName: "eth0", args: args, stdin: conf}); code != 0 {
				b.Fatalf("DEL: %s", out)
			}
			add, del = append(add, t1.Sub(t0)), append(del, time.Since(t1))
		}
		b.ReportMetric(p50(add), "add-p50-ms")
		b.ReportMetric(p50(del), "del-p50-ms")
	})
	b.Run("in-process-baseline", func(b *testing.B) {
		spec := e.agent.spec(&attachment{
			ip: netip.MustParsePrefix("10.200.23.200/24"), hostIf: podif.HostIfName(id, "eth0"), netns: pod.Path, ifName: "eth0",
		})
		ctx := context.Background()
		var add, del []time.Duration
		for range b.N {
			t0 := time.Now()
			if _, err := e.agent.plumber.Configure(ctx, spec); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := e.agent.plumber.Teardown(ctx, spec.HostIfName); err != nil {
				b.Fatal(err)
			}
			add, del = append(add, t1.Sub(t0)), append(del, time.Since(t1))
		}
		b.ReportMetric(p50(add), "add-p50-ms")
		b.ReportMetric(p50(del), "del-p50-ms")
	})
}

func p50(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)/2].Microseconds()) / 1000
}
