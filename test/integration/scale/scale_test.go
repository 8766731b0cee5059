package scale

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// TestScale: N kwok nodes, P pods bound to them, S SubNets, Q
// NetworkPolicies; the kubefay-controller binary runs; one simulated agent
// per node allocates its pods' addresses. It asserts that every pod gets
// exactly one address, none twice (checked against every IPAMBlock), at
// most one API write per pod; it prints the figures next to the issue's
// targets (never asserted: this machine is shared).
func TestScale(t *testing.T) {
	s, err := sizeFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(s)
	cl := startCluster(t)
	bin := cl.controllerBinary(t)
	t0 := time.Now()
	populate(t, cl.c, s)
	waitNodesReady(t, cl.c, s.nodes, 5*time.Minute)
	nodesReady := time.Since(t0)
	cl.startController(t, bin)
	r := &report{size: s}
	r.add("objects created, kwok nodes Ready", "-", fmt.Sprintf("%d nodes in %v", s.nodes, nodesReady.Round(time.Millisecond)))

	watch := startWatcher(t, cl, "agent-watch")
	waitSynced(t, watch, 2*time.Minute)
	ag := startAgents(t, cl, s)
	guardMemory(t, func() string { return fmt.Sprintf("%d pods handled, %d held", ag.done.Load(), ag.heldCount()) })
	ctrl0, _ := readUsage(cl.ctrl.pid())
	watch0, _ := readUsage(watch.pid())
	t0 = time.Now()

	// Phase 1, streaming: the first half of the pods is allocated while
	// they are created, as kubelet would call CNI ADD.
	half := s.pods / 2
	stream := ag.phases[0]
	created, createLat := createAll(t, cl.c, half, func(i int) client.Object { return s.pod(i) })
	ag.wait(t, half, 30*time.Minute)
	// Phase 2, burst: the second half is created while the agents hold
	// back (as after an outage), then all of it is allocated at once.
	before := ag.stats()
	burst := ag.startPhase(true)
	created2, createLat2 := createAll(t, cl.c, s.pods-half, func(i int) client.Object { return s.pod(half + i) })
	waitHeld(t, ag, s.pods-half, 10*time.Minute)
	ag.release()
	ag.wait(t, s.pods, 30*time.Minute)
	after := ag.stats()
	if len(ag.errs) > 0 {
		t.Fatalf("%d allocations failed, first: %s", len(ag.errs), ag.errs[0])
	}
	lag := waitStatus(t, cl.c, ag.perSubnet(), burst.end, 5*time.Minute)
	ctrl1, _ := readUsage(cl.ctrl.pid())
	watch1, _ := readUsage(watch.pid())
	span := time.Since(t0)
	ws := stopWatcher(t, watch)

	pods := float64(s.pods)
	writesPerPod := float64(ag.traffic.writes.Load()) / pods
	createLat = append(createLat, createLat2...)
	created += created2
	sw, bw := ag.wall(stream), ag.wall(burst)
	r.lat = [4]time.Duration{ag.percentile(stream, 50), ag.percentile(stream, 99), ag.percentile(burst, 50), ag.percentile(burst, 99)}
	r.add("pods created (API, 32 clients)", "-", fmt.Sprintf("%d in %v (%.0f/s)", s.pods, created.Round(time.Millisecond), pods/created.Seconds()))
	r.add("baseline: pod create latency p50 / p99 (same run)", "-", fmt.Sprintf("%v / %v", ms(percentile(createLat, 50)), ms(percentile(createLat, 99))))
	r.add("streaming: pods allocated as created (first ADD to last)", "-", fmt.Sprintf("%d in %v (%.0f/s, bound by pod creation)", half, sw.Round(time.Millisecond), float64(half)/sw.Seconds()))
	r.add("streaming: allocation latency p50 / p99", "p99 <= 100ms", fmt.Sprintf("%v / %v", ms(ag.percentile(stream, 50)), ms(ag.percentile(stream, 99))))
	r.add("burst: pending pods allocated at once (release to last)", "50,000 in <= 5 min", fmt.Sprintf("%d in %v", s.pods-half, bw.Round(time.Millisecond)))
	r.add("burst: allocations/s", ">= 167/s", fmt.Sprintf("%.0f (mean batch %.2f pods per write)", float64(s.pods-half)/bw.Seconds(), after.meanBatch(before)))
	r.add("burst: allocation latency p50 / p99 (all queued at once)", "-", fmt.Sprintf("%v / %v", ms(ag.percentile(burst, 50)), ms(ag.percentile(burst, 99))))
	r.add("API writes per pod", "<= 1", fmt.Sprintf("%.3f (%d writes: %.0f block claims lost to another node, %.0f update conflicts; mean batch %.2f)",
		writesPerPod, ag.traffic.writes.Load(), after.conflicts["create"], after.conflicts["update"], after.meanBatch(ipamStats{})))
	r.add("API bytes per pod (agents' IPAM, sent+received)", "-", fmt.Sprintf("%.0f B (%d reads)", float64(ag.traffic.sent.Load()+ag.traffic.received.Load())/pods, ag.traffic.reads.Load()))
	r.add("SubNet status lag (last allocation -> status.used)", "-", lag.Round(time.Millisecond).String())
	r.add("controller CPU during the run", "< 1 core", fmt.Sprintf("%.2f cores (%v CPU in %v)", (ctrl1.cpu-ctrl0.cpu).Seconds()/span.Seconds(), ctrl1.cpu-ctrl0.cpu, span.Round(time.Second)))
	r.add("controller RSS (peak)", "< 1 GiB", fmt.Sprintf("%s (now %s)", mib(ctrl1.peak), mib(ctrl1.rss)))

	// one agent's informers: the churn of this run, then a fresh start at full size
	r.add("agent informers: events received during the run", "-", fmt.Sprintf("%d (%.0f/s; pods %d, ipamblocks %d)", ws.Events, float64(ws.Events)/span.Seconds(), ws.EventsOf["pods"], ws.EventsOf["ipamblocks"]))
	r.add("agent informers: bytes received during the run", "-", fmt.Sprintf("%s (%s/s, %.0f B per pod; pods %s, ipamblocks %s)", mib(ws.Received), mib(int64(float64(ws.Received)/span.Seconds())),
		float64(ws.Received)/pods, mib(ws.ReceivedOf["pods"]), mib(ws.ReceivedOf["ipamblocks"])))
	r.add("agent informers: CPU, RSS during the run", "-", fmt.Sprintf("%v CPU (%.2f cores), RSS %s peak %s", watch1.cpu-watch0.cpu, (watch1.cpu-watch0.cpu).Seconds()/span.Seconds(), mib(watch1.rss), mib(watch1.peak)))
	fresh := startWatcher(t, cl, "agent-watch-fresh")
	synced := waitSynced(t, fresh, 5*time.Minute)
	fu, _ := readUsage(fresh.pid())
	fs := stopWatcher(t, fresh)
	r.add("agent informers: fresh start (list) at full size", "-", fmt.Sprintf("synced in %v, %s received (pods %s), %v CPU, RSS %s", synced.Round(time.Millisecond), mib(fs.Received), mib(fs.ReceivedOf["pods"]), fu.cpu, mib(fu.rss)))
	r.add(fmt.Sprintf("projected: %d agents' watch egress during the run", s.nodes), "-", fmt.Sprintf("%s/s, %.0f events/s", mib(int64(float64(ws.Received)/span.Seconds()*float64(s.nodes))), float64(ws.Events)/span.Seconds()*float64(s.nodes)))
	r.add(fmt.Sprintf("projected: %d agents starting at once (lists)", s.nodes), "-", mib(fs.Received*int64(s.nodes)))

	// the write assertions below cover the two phases (s.pods pods)
	writes, failed := ag.traffic.writes.Load(), ag.traffic.failedWrites.Load()

	// controller crash and restart, with allocations made while it was down
	cl.killController()
	ag.startPhase(false)
	_, _ = createAll(t, cl.c, s.nodes, func(i int) client.Object { return s.pod(s.pods + i) })
	ag.wait(t, s.pods+s.nodes, 5*time.Minute)
	restart := time.Now()
	ready := cl.startController(t, bin)
	waitStatus(t, cl.c, ag.perSubnet(), restart, 5*time.Minute)
	r.add("controller restart -> /readyz", "-", ready.Round(time.Millisecond).String())
	r.add("controller restart -> every SubNet status reconciled", "<= 30s", time.Since(restart).Round(time.Millisecond).String())

	st := checkBlocks(t, cl.c, ag.ips)
	r.add("duplicates (every IPAMBlock checked)", "0", fmt.Sprintf("%d problems; %d pods hold one address each, %d blocks", len(st.problems), st.pods, st.blocks))
	r.add("etcd DB size", "-", mib(cl.etcdDBSize()))
	r.print(t)

	for i, p := range st.problems {
		if i == 20 {
			t.Errorf("... %d problems in all", len(st.problems))
			break
		}
		t.Error(p)
	}
	if want := s.pods + s.nodes; st.pods != want || len(ag.ips) != want {
		t.Errorf("%d pods hold an address in the blocks, %d were given one; want %d", st.pods, len(ag.ips), want)
	}
	// One successful write per pod at most; the writes lost to a race (two
	// nodes claiming one block, a block changed under its writer) are
	// retried and stay rare.
	if ok := writes - failed; ok > int64(s.pods) {
		t.Errorf("%d successful API writes for %d pods, want <= 1 per pod", ok, s.pods)
	}
	if failed > int64(s.pods)/20 {
		t.Errorf("%d failed API writes for %d pods, want <= 5%%", failed, s.pods)
	}
}

// waitHeld waits until n pods are held back by the agents.
func waitHeld(t *testing.T, a *agents, n int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := poll(ctx, 50*time.Millisecond, func() bool { return a.heldCount() >= n }); err != nil {
		t.Fatalf("%d of %d pods seen by the agents after %v", a.heldCount(), n, timeout)
	}
}

// waitNodesReady waits until kwok has made n nodes Ready.
func waitNodesReady(t *testing.T, c client.Client, n int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ready := 0
	err := poll(ctx, time.Second, func() bool {
		nodes := &corev1.NodeList{}
		if err := c.List(ctx, nodes); err != nil {
			return false
		}
		ready = 0
		for _, no := range nodes.Items {
			for _, cond := range no.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= n
	})
	if err != nil {
		t.Fatalf("%d of %d nodes Ready after %v: is kwok managing them?", ready, n, timeout)
	}
	return time.Since(start)
}

// waitStatus waits until every SubNet's status.used equals want and
// returns the time since from.
func waitStatus(t *testing.T, c client.Client, want map[string]int64, from time.Time, timeout time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var off []string
	err := poll(ctx, 100*time.Millisecond, func() bool {
		list := &v1alpha1.SubNetList{}
		if err := c.List(ctx, list); err != nil {
			return false
		}
		off = off[:0]
		for _, sn := range list.Items {
			if w, ok := want[sn.Name]; ok && sn.Status.Used != w {
				off = append(off, fmt.Sprintf("%s used=%d want %d", sn.Name, sn.Status.Used, w))
			}
		}
		return len(off) == 0
	})
	if err != nil {
		t.Fatalf("SubNet status not up to date after %v: %s", timeout, strings.Join(off[:min(len(off), 5)], "; "))
	}
	return time.Since(from)
}

// perSubnet counts the addresses given so far, per SubNet.
func (a *agents) perSubnet() map[string]int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := map[string]int64{}
	for pod := range a.ips {
		ns, _, _ := strings.Cut(pod, "/")
		m["sn-"+strings.TrimPrefix(ns, "ns-")]++
	}
	return m
}
