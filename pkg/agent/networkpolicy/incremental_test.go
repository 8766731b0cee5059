package networkpolicy

import (
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

func ownerList(ch map[string][]*of.Flow) string {
	var out []string
	for o, fs := range ch {
		if len(fs) == 0 {
			o += "(gone)"
		}
		out = append(out, o)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// incWorld: policy a lets cli pods and 192.0.2.0/24 reach web on 80; policy
// b lets namespaces env=dev reach db.
func incWorld() *Engine {
	e := world()
	e.SetPolicy(mkPolicy("prod", "a", networkingv1.NetworkPolicySpec{PodSelector: web,
		Ingress: []ingress{{From: peers{podPeer(sel("app=cli")), blockPeer("192.0.2.0/24")}, Ports: ports{tcp(80)}}}}))
	e.SetPolicy(mkPolicy("prod", "b", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
		Ingress: []ingress{{From: peers{nsPeer(sel("env=dev"))}}}}))
	e.Changes()
	return e
}

func TestIncremental(t *testing.T) {
	cases := []struct {
		name       string
		change     func(e *Engine)
		recomputed int
		owners     string
	}{
		{"peer pod label change", func(e *Engine) {
			e.SetPod(mkPod("prod", "cli", "10.0.9.2", "node-b", lbl("app=other")))
		}, 1, "np/clause/60/src=10.0.9.2/32(gone)"},
		{"peer pod IP change", func(e *Engine) {
			e.SetPod(mkPod("prod", "cli", "10.0.9.3", "node-b", lbl("app=cli")))
		}, 1, "np/clause/60/src=10.0.9.2/32(gone) np/clause/60/src=10.0.9.3/32"},
		{"unrelated pod label change", func(e *Engine) {
			e.SetPod(mkPod("prod", "web9", "10.0.9.1", "node-b", lbl("app=web", "v=2")))
		}, 0, ""},
		{"same pod again", func(e *Engine) {
			e.SetPod(mkPod("prod", "cli", "10.0.9.2", "node-b", lbl("app=cli")))
		}, 0, ""},
		{"local pod becomes selected", func(e *Engine) {
			e.SetPod(mkPod("prod", "db", "10.0.0.3", testNode, lbl("app=web"), NamedPort{Name: "http", Port: 5432}))
		}, 2, "np/clause/60/dst=10.0.0.3/32 np/clause/60/src=10.1.9.2/32(gone) np/conj/2(gone)"},
		{"namespace labels no longer match", func(e *Engine) {
			e.SetNamespace(Namespace{Name: "dev", Labels: lbl("env=test")})
		}, 1, "np/clause/60/dst=10.0.0.3/32(gone) np/clause/60/src=10.1.9.2/32(gone) np/conj/2(gone)"},
		{"namespace labels of an unselected namespace", func(e *Engine) {
			e.SetNamespace(Namespace{Name: "other", Labels: lbl("env=dev")})
		}, 0, ""},
		{"policy update keeps conj id", func(e *Engine) {
			e.SetPolicy(mkPolicy("prod", "a", networkingv1.NetworkPolicySpec{PodSelector: web,
				Ingress: []ingress{{From: peers{podPeer(sel("app=cli")), blockPeer("192.0.2.0/24")}, Ports: ports{tcp(81)}}}}))
		}, 1, "np/clause/60/tcp=80/0xffff(gone) np/clause/60/tcp=81/0xffff"},
		{"same policy again", func(e *Engine) {
			e.SetPolicy(mkPolicy("prod", "a", networkingv1.NetworkPolicySpec{PodSelector: web,
				Ingress: []ingress{{From: peers{podPeer(sel("app=cli")), blockPeer("192.0.2.0/24")}, Ports: ports{tcp(80)}}}}))
		}, 0, ""},
		{"delete local selected pod", func(e *Engine) { e.DeletePod("prod", "web1") }, 1,
			"np/clause/60/dst=10.0.0.1/32(gone) np/deny/in/10.0.0.1(gone)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := incWorld()
			before := e.recomputed
			c.change(e)
			if got := e.recomputed - before; got != c.recomputed {
				t.Errorf("recomputed %d rules, want %d", got, c.recomputed)
			}
			if got := ownerList(e.Changes()); got != c.owners {
				t.Errorf("changed owners:\n %s\nwant\n %s", got, c.owners)
			}
			if got := ownerList(e.Changes()); got != "" {
				t.Errorf("second Changes not empty: %s", got)
			}
			checkInvariants(t, e)
			if ids := fmt.Sprint(conjIDs(e)); c.name == "policy update keeps conj id" && ids != "[1 2]" {
				t.Errorf("conj ids %s, want [1 2]", ids)
			}
		})
	}
}

func conjIDs(e *Engine) []uint32 {
	var ids []uint32
	for _, r := range e.Rules() {
		if r.ConjID != 0 {
			ids = append(ids, r.ConjID)
		}
	}
	return ids
}

func TestDeleteLastPolicyRemovesEverything(t *testing.T) {
	e := incWorld()
	if len(e.All()) == 0 {
		t.Fatal("no flows to start with")
	}
	e.DeletePolicy("prod", "a")
	e.DeletePolicy("prod", "b")
	ch := e.Changes()
	for o, fs := range ch {
		if len(fs) != 0 {
			t.Errorf("%s still has flows: %v", o, fs)
		}
	}
	if len(ch) == 0 {
		t.Error("no owner reported gone")
	}
	if all := e.All(); len(all) != 0 {
		t.Errorf("flows left: %v", flowLines(all))
	}
	if r := e.Rules(); len(r) != 0 {
		t.Errorf("rules left: %v", r)
	}
}

var conjNumRE = regexp.MustCompile(`conj(?:_id=|unction\()(\d+)`)

// canonical renders all flows with conjunction ids replaced by the rule they
// stand for, so engines that numbered differently compare equal.
func canonical(e *Engine) string {
	names := map[string]string{}
	for _, r := range e.Rules() {
		if r.ConjID != 0 {
			names[strconv.Itoa(int(r.ConjID))] = fmt.Sprintf("%s/%s/%s/%d/%s", r.Namespace, r.Policy, r.Direction, r.RuleIndex, r.Split)
		}
	}
	var lines []string
	for _, l := range flowLines(e.All()) {
		l = cookieRE.ReplaceAllString(l, "")
		l = conjNumRE.ReplaceAllStringFunc(l, func(s string) string {
			m := conjNumRE.FindStringSubmatch(s)
			return strings.TrimSuffix(s, m[1]) + names[m[1]]
		})
		// the order of conjunction actions follows ids: sort them
		if i := strings.Index(l, "actions=conjunction"); i >= 0 {
			acts := strings.Split(l[i+len("actions="):], ",conjunction(")
			for j := 1; j < len(acts); j++ {
				acts[j] = "conjunction(" + acts[j]
			}
			sort.Strings(acts)
			l = l[:i] + "actions=" + strings.Join(acts, ",")
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestRandomChangesMatchFreshEngine applies random changes one by one,
// replaying Changes into a flow table, and checks after each step that the
// table equals All() and that a fresh engine fed the same final state
// computes the same flows.
func TestRandomChangesMatchFreshEngine(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { randomChanges(t, seed) })
	}
}

func randomChanges(t *testing.T, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	apps := []string{"web", "db", "cli", "cache"}
	nss := []string{"prod", "dev", "test"}
	envs := []string{"prod", "dev"}
	var pods = map[string]Pod{}
	var namespaces = map[string]Namespace{}
	var pols = map[string]*networkingv1.NetworkPolicy{}
	randPod := func() Pod {
		i := rng.Intn(12)
		node := testNode
		if i%3 == 0 {
			node = "node-b"
		}
		ip := fmt.Sprintf("10.0.%d.%d", i, 1+rng.Intn(2))
		if rng.Intn(10) == 0 {
			ip = ""
		}
		return mkPod(nss[i%3], fmt.Sprintf("p%d", i), ip, node, lbl("app="+apps[rng.Intn(4)]),
			NamedPort{Name: "http", Port: int32(80 + rng.Intn(3))})
	}
	randPolicy := func() *networkingv1.NetworkPolicy {
		i := rng.Intn(6)
		var from peers
		switch rng.Intn(5) {
		case 0:
			from = peers{podPeer(sel("app=" + apps[rng.Intn(4)]))}
		case 1:
			from = peers{nsPeer(sel("env=" + envs[rng.Intn(2)]))}
		case 2:
			from = peers{{NamespaceSelector: sel(), PodSelector: sel("app=" + apps[rng.Intn(4)])}, blockPeer("192.0.2.0/24", "192.0.2.128/26")}
		case 3:
			from = nil
		case 4:
			from = peers{podPeer(sel())}
		}
		var ps ports
		switch rng.Intn(4) {
		case 0:
			ps = ports{tcp(80)}
		case 1:
			ps = ports{named("http"), portRangeOf(1000, 1010)}
		case 2:
			ps = ports{named("http")}
		}
		spec := networkingv1.NetworkPolicySpec{PodSelector: *sel("app=" + apps[rng.Intn(4)]),
			Ingress: []ingress{{From: from, Ports: ps}}}
		if rng.Intn(2) == 0 {
			spec.Egress = []egress{{To: from, Ports: ps}}
		}
		return mkPolicy(nss[i%3], fmt.Sprintf("np%d", i), spec)
	}
	e := NewEngine(testNode)
	table := map[string][]*of.Flow{}
	for step := 0; step < 400; step++ {
		switch rng.Intn(7) {
		case 0, 1:
			p := randPod()
			pods[p.Namespace+"/"+p.Name] = p
			e.SetPod(p)
		case 2:
			p := randPod()
			delete(pods, p.Namespace+"/"+p.Name)
			e.DeletePod(p.Namespace, p.Name)
		case 3:
			n := Namespace{Name: nss[rng.Intn(3)], Labels: lbl("env=" + envs[rng.Intn(2)])}
			namespaces[n.Name] = n
			e.SetNamespace(n)
		case 4, 5:
			np := randPolicy()
			pols[np.Namespace+"/"+np.Name] = np
			e.SetPolicy(np)
		case 6:
			np := randPolicy()
			delete(pols, np.Namespace+"/"+np.Name)
			e.DeletePolicy(np.Namespace, np.Name)
		}
		for o, fs := range e.Changes() {
			if len(fs) == 0 {
				delete(table, o)
			} else {
				table[o] = fs
			}
		}
		if got, want := strings.Join(flowLines(table), "\n"), strings.Join(flowLines(e.All()), "\n"); got != want {
			t.Fatalf("step %d: replayed Changes differ from All:\n%s\n---\n%s", step, got, want)
		}
		if step%20 != 19 {
			continue
		}
		checkInvariants(t, e)
		fresh := NewEngine(testNode)
		for _, n := range sortedKeys(namespaces) {
			fresh.SetNamespace(namespaces[n])
		}
		for _, k := range sortedKeys(pods) {
			fresh.SetPod(pods[k])
		}
		for _, k := range sortedKeys(pols) {
			fresh.SetPolicy(pols[k])
		}
		if got, want := canonical(e), canonical(fresh); got != want {
			t.Fatalf("step %d: incremental engine differs from a fresh one:\n%s", step, lineDiff(got, want))
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func lineDiff(got, want string) string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	var out []string
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
