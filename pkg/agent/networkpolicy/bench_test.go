package networkpolicy

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// benchState is the scale: 1000 pods in 20 namespaces, all on the
// engine's node (the worst case: every pod can be applied-to), and 1000
// policies mixing pod, namespace and combined selectors, ipBlocks, numeric,
// named and ranged ports, ingress and egress.
func benchState() ([]Namespace, []Pod, []*networkingv1.NetworkPolicy) {
	var nss []Namespace
	for i := 0; i < 20; i++ {
		nss = append(nss, Namespace{Name: fmt.Sprintf("ns%d", i),
			Labels: lbl(fmt.Sprintf("team=t%d", i%5), fmt.Sprintf("env=%s", []string{"prod", "dev"}[i%2]))})
	}
	tiers := []string{"web", "db", "cache"}
	var pods []Pod
	for i := 0; i < 1000; i++ {
		pods = append(pods, Pod{Namespace: fmt.Sprintf("ns%d", i%20), Name: fmt.Sprintf("pod%d", i),
			Labels: lbl(fmt.Sprintf("app=app%d", i%50), "tier="+tiers[i%3]),
			IP:     netip.AddrFrom4([4]byte{10, 10, byte(i / 250), byte(1 + i%250)}), Node: testNode,
			Ports: []NamedPort{{Name: "http", Port: int32(8000 + i%4)}, {Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}})
	}
	var pols []*networkingv1.NetworkPolicy
	for j := 0; j < 1000; j++ {
		var from peers
		switch j % 4 {
		case 0:
			from = peers{podPeer(sel("tier=" + tiers[j%3]))}
		case 1:
			from = peers{nsPeer(sel(fmt.Sprintf("team=t%d", j%5)))}
		case 2:
			from = peers{{NamespaceSelector: sel("env=prod"), PodSelector: sel(fmt.Sprintf("app=app%d", (j+7)%50))}}
		case 3:
			from = peers{blockPeer(fmt.Sprintf("172.%d.0.0/16", 16+j%16), fmt.Sprintf("172.%d.%d.0/24", 16+j%16, j%256))}
		}
		var ps ports
		switch j % 5 {
		case 0:
			ps = ports{tcp(80)}
		case 1:
			ps = ports{named("http")}
		case 2:
			ps = ports{portRangeOf(9000, 9100), proto(corev1.ProtocolUDP, 53)}
		case 3:
			ps = ports{tcp(443), tcp(8443)}
		}
		spec := networkingv1.NetworkPolicySpec{PodSelector: *sel(fmt.Sprintf("app=app%d", j%50)),
			Ingress: []ingress{{From: from, Ports: ps}}}
		if j%3 == 0 {
			spec.Egress = []egress{{To: peers{nsPeer(sel(fmt.Sprintf("team=t%d", (j+1)%5)))}, Ports: ports{tcp(5432), namedProto(corev1.ProtocolUDP, "dns")}}}
		}
		pols = append(pols, mkPolicy(fmt.Sprintf("ns%d", j%20), fmt.Sprintf("np%d", j), spec))
	}
	return nss, pods, pols
}

func loadBench(nss []Namespace, pods []Pod, pols []*networkingv1.NetworkPolicy) *Engine {
	e := NewEngine(testNode)
	for _, n := range nss {
		e.SetNamespace(n)
	}
	for _, p := range pods {
		e.SetPod(p)
	}
	for _, p := range pols {
		e.SetPolicy(p)
	}
	return e
}

// naiveFlows is the flow count of a design without conjunctions: each
// conjunction's cross product of applied-to x peers x ports as flows, plus
// the same default denies.
func (e *Engine) naiveFlows() int {
	n := 0
	for _, c := range e.conjByID {
		p := 1
		for _, d := range c.dims {
			if d > 0 {
				p *= d
			}
		}
		n += p
	}
	for _, is := range e.iso {
		if is.in {
			n++
		}
		if is.out {
			n++
		}
	}
	return n
}

func countFlows(e *Engine) int {
	n := 0
	for _, fs := range e.All() {
		n += len(fs)
	}
	return n
}

// BenchmarkEngine1000x1000 loads 1000 policies over 1000 pods into a fresh
// engine and takes the flows (Changes). Metrics: flows/op installed,
// naive-flows/op of the cross-product baseline, and their ratio.
func BenchmarkEngine1000x1000(b *testing.B) {
	nss, pods, pols := benchState()
	var e *Engine
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e = loadBench(nss, pods, pols)
		e.Changes()
	}
	b.StopTimer()
	flows, naive := countFlows(e), e.naiveFlows()
	b.ReportMetric(float64(flows), "flows/op")
	b.ReportMetric(float64(naive), "naive-flows/op")
	b.ReportMetric(float64(naive)/float64(flows), "x-fewer-flows")
	b.ReportMetric(float64(len(e.conjByID)), "conjunctions/op")
}

// BenchmarkEngineOnePodLabelChange: the full state loaded, one pod's labels
// flip back and forth; each op is SetPod + Changes. Baseline in the same
// run: re-evaluating every rule once (what a non-incremental engine does per
// change), reported as full-recompute-ns and x-faster-than-full.
func BenchmarkEngineOnePodLabelChange(b *testing.B) {
	nss, pods, pols := benchState()
	e := loadBench(nss, pods, pols)
	e.Changes()
	p := pods[123]
	orig := p.Labels
	alt := lbl("app=app7", "tier=db")
	owners, recomputed := 0, 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			p.Labels = alt
		} else {
			p.Labels = orig
		}
		before := e.recomputed
		e.SetPod(p)
		owners += len(e.Changes())
		recomputed += e.recomputed - before
	}
	b.StopTimer()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	// Baseline, same run: what a non-incremental engine pays per change,
	// re-evaluating every rule and taking the changes.
	start := time.Now()
	for _, pol := range e.policies {
		for _, r := range pol.rules {
			e.syncRule(r)
		}
	}
	e.Changes()
	full := float64(time.Since(start).Nanoseconds())
	b.ReportMetric(full, "full-recompute-ns")
	b.ReportMetric(full/perOp, "x-faster-than-full")
	b.ReportMetric(float64(owners)/float64(b.N), "owners-changed/op")
	b.ReportMetric(float64(recomputed)/float64(b.N), "rules-recomputed/op")
	totalRules := 0
	for _, pol := range e.policies {
		totalRules += len(pol.rules)
	}
	b.ReportMetric(float64(totalRules), "rules-total")
	b.ReportMetric(float64(countFlows(e)), "flows-total")
}
