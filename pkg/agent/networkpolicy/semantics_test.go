package networkpolicy

import (
	"flag"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

var showFlows = flag.Bool("show-flows", false, "print the flows of every semantics case")

type ingress = networkingv1.NetworkPolicyIngressRule
type egress = networkingv1.NetworkPolicyEgressRule
type peers = []networkingv1.NetworkPolicyPeer
type ports = []networkingv1.NetworkPolicyPort

var cookieRE = regexp.MustCompile(`^cookie=0x[0-9a-f]+, `)

// stripped renders the flows without cookies (tested apart), sorted.
func stripped(e *Engine) string {
	var out []string
	for _, l := range flowLines(e.All()) {
		out = append(out, cookieRE.ReplaceAllString(l, ""))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// world is the cluster of the semantics cases: namespace prod (env=prod)
// and dev (env=dev); in prod two local web pods with different values of
// the named port "http", a local db pod, a remote web pod, a remote cli
// pod; in dev a remote cli pod and a pod without an IP.
func world() *Engine {
	e := NewEngine(testNode)
	e.SetNamespace(Namespace{Name: "prod", Labels: lbl("env=prod")})
	e.SetNamespace(Namespace{Name: "dev", Labels: lbl("env=dev")})
	e.SetPod(mkPod("prod", "web1", "10.0.0.1", testNode, lbl("app=web"), NamedPort{Name: "http", Port: 80}))
	e.SetPod(mkPod("prod", "web2", "10.0.0.2", testNode, lbl("app=web"), NamedPort{Name: "http", Port: 8080},
		NamedPort{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}))
	e.SetPod(mkPod("prod", "db", "10.0.0.3", testNode, lbl("app=db"), NamedPort{Name: "http", Port: 5432}))
	e.SetPod(mkPod("prod", "web9", "10.0.9.1", "node-b", lbl("app=web")))
	e.SetPod(mkPod("prod", "cli", "10.0.9.2", "node-b", lbl("app=cli")))
	e.SetPod(mkPod("dev", "cli", "10.1.9.2", "node-b", lbl("app=cli")))
	e.SetPod(mkPod("dev", "pending", "", testNode, lbl("app=cli")))
	return e
}

func TestSemantics(t *testing.T) {

	cases := []struct {
		name string
		spec networkingv1.NetworkPolicySpec
		want []string
	}{
		{"default deny ingress", networkingv1.NetworkPolicySpec{PodSelector: web}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.1 actions=drop",
			"table=60, priority=100,ip,nw_dst=10.0.0.2 actions=drop",
		}},
		{"default deny egress", networkingv1.NetworkPolicySpec{PodSelector: web,
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}, []string{
			"table=30, priority=100,ip,nw_src=10.0.0.1 actions=drop",
			"table=30, priority=100,ip,nw_src=10.0.0.2 actions=drop",
		}},
		{"allow from namespace", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{From: peers{nsPeer(sel("env=dev"))}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/2)",
			"table=60, priority=200,ip,nw_src=10.1.9.2 actions=conjunction(1,2/2)",
		}},
		{"allow from pod label in the policy namespace", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{From: peers{podPeer(sel("app=cli"))}, Ports: ports{tcp(5432)}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/3)",
			"table=60, priority=200,ip,nw_src=10.0.9.2 actions=conjunction(1,2/3)",
			"table=60, priority=200,tcp,tp_dst=5432 actions=conjunction(1,3/3)",
		}},
		{"namespace and pod selector together", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{From: peers{{NamespaceSelector: sel(), PodSelector: sel("app=cli")}}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/2)",
			"table=60, priority=200,ip,nw_src=10.0.9.2 actions=conjunction(1,2/2)",
			"table=60, priority=200,ip,nw_src=10.1.9.2 actions=conjunction(1,2/2)",
		}},
		{"ipBlock with except", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{From: peers{blockPeer("172.16.0.0/22", "172.16.1.0/24", "172.16.3.128/25")}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/2)",
			"table=60, priority=200,ip,nw_src=172.16.0.0/24 actions=conjunction(1,2/2)",
			"table=60, priority=200,ip,nw_src=172.16.2.0/24 actions=conjunction(1,2/2)",
			"table=60, priority=200,ip,nw_src=172.16.3.0/25 actions=conjunction(1,2/2)",
		}},
		{"named port resolved per destination pod", networkingv1.NetworkPolicySpec{PodSelector: web,
			Ingress: []ingress{{From: peers{podPeer(sel("app=cli"))}, Ports: ports{named("http")}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.1 actions=drop",
			"table=60, priority=100,ip,nw_dst=10.0.0.2 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,conj_id=2 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.1 actions=conjunction(1,1/3)",
			"table=60, priority=200,ip,nw_dst=10.0.0.2 actions=conjunction(2,1/3)",
			"table=60, priority=200,ip,nw_src=10.0.9.2 actions=conjunction(1,2/3),conjunction(2,2/3)",
			"table=60, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3)",
			"table=60, priority=200,tcp,tp_dst=8080 actions=conjunction(2,3/3)",
		}},
		{"endPort range as masks", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{Ports: ports{portRangeOf(8000, 8010)}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/2)",
			"table=60, priority=200,tcp,tp_dst=0x1f40/0xfff8 actions=conjunction(1,2/2)",
			"table=60, priority=200,tcp,tp_dst=0x1f48/0xfffe actions=conjunction(1,2/2)",
			"table=60, priority=200,tcp,tp_dst=8010 actions=conjunction(1,2/2)",
		}},
		{"UDP port, SCTP all ports", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{Ports: ports{proto(corev1.ProtocolUDP, 53), proto(corev1.ProtocolSCTP, 0)}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/2)",
			"table=60, priority=200,sctp actions=conjunction(1,2/2)",
			"table=60, priority=200,udp,tp_dst=53 actions=conjunction(1,2/2)",
		}},
		{"policyTypes Egress only ignores ingress rules", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Ingress:     []ingress{{}},
			Egress:      []egress{{To: peers{podPeer(sel("app=web"))}, Ports: ports{tcp(443)}}}}, []string{
			"table=30, priority=100,ip,nw_src=10.0.0.3 actions=drop",
			"table=30, priority=200,conj_id=1 actions=goto_table:40",
			"table=30, priority=200,ip,nw_dst=10.0.0.1 actions=conjunction(1,2/3)",
			"table=30, priority=200,ip,nw_dst=10.0.0.2 actions=conjunction(1,2/3)",
			"table=30, priority=200,ip,nw_dst=10.0.9.1 actions=conjunction(1,2/3)",
			"table=30, priority=200,ip,nw_src=10.0.0.3 actions=conjunction(1,1/3)",
			"table=30, priority=200,tcp,tp_dst=443 actions=conjunction(1,3/3)",
		}},
		{"empty from with ports: two dimensions", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{Ports: ports{tcp(5432)}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			"table=60, priority=200,conj_id=1 actions=goto_table:70",
			"table=60, priority=200,ip,nw_dst=10.0.0.3 actions=conjunction(1,1/2)",
			"table=60, priority=200,tcp,tp_dst=5432 actions=conjunction(1,2/2)",
		}},
		{"empty rule allows everything: direct flows", networkingv1.NetworkPolicySpec{PodSelector: web,
			Ingress: []ingress{{}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.1 actions=drop",
			"table=60, priority=100,ip,nw_dst=10.0.0.2 actions=drop",
			"table=60, priority=190,ip,nw_dst=10.0.0.1 actions=goto_table:70",
			"table=60, priority=190,ip,nw_dst=10.0.0.2 actions=goto_table:70",
		}},
		{"peer selector matching nothing: rule installs nothing", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
			Ingress: []ingress{{From: peers{podPeer(sel("app=nothing"))}}}}, []string{
			"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
		}},
		{"pod selector matching nothing: no flows", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=nothing"),
			Ingress: []ingress{{}}}, nil},
		{"only remote pods selected: nothing", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=cli"),
			Ingress: []ingress{{}}}, nil},
		{"egress named port resolved on each peer; ipBlock with a named port matches nothing",
			networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
				Egress: []egress{{To: peers{podPeer(sel("app=web")), blockPeer("192.0.2.0/24")},
					Ports: ports{named("http"), namedProto(corev1.ProtocolUDP, "dns")}}}}, []string{
				"table=30, priority=100,ip,nw_src=10.0.0.3 actions=drop",
				"table=30, priority=200,conj_id=1 actions=goto_table:40",
				"table=30, priority=200,conj_id=2 actions=goto_table:40",
				"table=30, priority=200,ip,nw_dst=10.0.0.1 actions=conjunction(1,2/3)",
				"table=30, priority=200,ip,nw_dst=10.0.0.2 actions=conjunction(2,2/3)",
				"table=30, priority=200,ip,nw_src=10.0.0.3 actions=conjunction(1,1/3),conjunction(2,1/3)",
				"table=30, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3)",
				"table=30, priority=200,tcp,tp_dst=8080 actions=conjunction(2,3/3)",
				"table=30, priority=200,udp,tp_dst=53 actions=conjunction(2,3/3)",
				"table=60, priority=100,ip,nw_dst=10.0.0.3 actions=drop",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := world()
			e.SetPolicy(mkPolicy("prod", "p", c.spec))
			got := stripped(e)
			if *showFlows {
				fmt.Printf("--- %s\n%s\n", c.name, got)
			}
			if want := strings.Join(c.want, "\n"); got != want {
				t.Errorf("flows:\n%s\nwant:\n%s", got, want)
			}
			checkInvariants(t, e)
		})
	}
}

// dbSpec: db isolated both ways, ingress from cli on 5432.
func dbSpec() networkingv1.NetworkPolicySpec {
	return networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		Ingress:     []ingress{{From: peers{podPeer(sel("app=cli"))}, Ports: ports{tcp(5432)}}}}
}

// TestMergedClauses: two policies whose rules share clause members get one
// flow per member carrying both conjunctions; the union of policies allows.
func TestMergedClauses(t *testing.T) {
	e := world()
	e.SetPolicy(mkPolicy("prod", "a", networkingv1.NetworkPolicySpec{PodSelector: web,
		Ingress: []ingress{{From: peers{podPeer(sel("app=cli"))}, Ports: ports{tcp(80)}}}}))
	e.SetPolicy(mkPolicy("prod", "b", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=web"),
		Ingress: []ingress{{From: peers{podPeer(sel("app=cli")), podPeer(sel("app=db"))}, Ports: ports{tcp(80), tcp(443)}}}}))
	want := strings.Join([]string{
		"table=60, priority=100,ip,nw_dst=10.0.0.1 actions=drop",
		"table=60, priority=100,ip,nw_dst=10.0.0.2 actions=drop",
		"table=60, priority=200,conj_id=1 actions=goto_table:70",
		"table=60, priority=200,conj_id=2 actions=goto_table:70",
		"table=60, priority=200,ip,nw_dst=10.0.0.1 actions=conjunction(1,1/3),conjunction(2,1/3)",
		"table=60, priority=200,ip,nw_dst=10.0.0.2 actions=conjunction(1,1/3),conjunction(2,1/3)",
		"table=60, priority=200,ip,nw_src=10.0.0.3 actions=conjunction(2,2/3)",
		"table=60, priority=200,ip,nw_src=10.0.9.2 actions=conjunction(1,2/3),conjunction(2,2/3)",
		"table=60, priority=200,tcp,tp_dst=443 actions=conjunction(2,3/3)",
		"table=60, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3),conjunction(2,3/3)",
	}, "\n")
	if got := stripped(e); got != want {
		t.Errorf("flows:\n%s\nwant:\n%s", got, want)
	}
	checkInvariants(t, e)
	// Removing policy a touches only the flows it shared, and its conj_id flow.
	e.Changes()
	e.DeletePolicy("prod", "a")
	ch := e.Changes()
	var owners []string
	for o := range ch {
		owners = append(owners, o)
	}
	sort.Strings(owners)
	wantOwners := "[np/clause/60/dst=10.0.0.1/32 np/clause/60/dst=10.0.0.2/32 np/clause/60/src=10.0.9.2/32 np/clause/60/tcp=80/0xffff np/conj/1]"
	if fmt.Sprint(owners) != wantOwners {
		t.Errorf("changed owners %v\nwant %s", owners, wantOwners)
	}
	if ch["np/conj/1"] != nil {
		t.Errorf("np/conj/1 should be gone: %v", ch["np/conj/1"])
	}
	checkInvariants(t, e)
}

var web = *sel("app=web")
