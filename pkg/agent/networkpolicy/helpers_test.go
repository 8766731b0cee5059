package networkpolicy

import (
	"net/netip"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

const testNode = "node-a"

// lbl builds a label map from "k=v" pairs.
func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return m
}

func sel(kv ...string) *metav1.LabelSelector { return &metav1.LabelSelector{MatchLabels: lbl(kv...)} }

func mkPod(ns, name, ip, node string, labels map[string]string, ports ...NamedPort) Pod {
	var a netip.Addr
	if ip != "" {
		a = netip.MustParseAddr(ip)
	}
	return Pod{Namespace: ns, Name: name, Labels: labels, IP: a, Node: node, Ports: ports}
}

func mkPolicy(ns, name string, spec networkingv1.NetworkPolicySpec) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

func tcp(port int) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(int32(port))
	return networkingv1.NetworkPolicyPort{Port: &p}
}

func proto(pr corev1.Protocol, port int) networkingv1.NetworkPolicyPort {
	p := tcp(port)
	p.Protocol = &pr
	if port == 0 {
		p.Port = nil
	}
	return p
}

func named(name string) networkingv1.NetworkPolicyPort {
	p := intstr.FromString(name)
	return networkingv1.NetworkPolicyPort{Port: &p}
}

func namedProto(pr corev1.Protocol, name string) networkingv1.NetworkPolicyPort {
	p := named(name)
	p.Protocol = &pr
	return p
}

func portRangeOf(lo, hi int32) networkingv1.NetworkPolicyPort {
	p := tcp(int(lo))
	p.EndPort = &hi
	return p
}

func podPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{PodSelector: s}
}

func nsPeer(s *metav1.LabelSelector) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{NamespaceSelector: s}
}

func blockPeer(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

func flowLines(m map[string][]*of.Flow) []string {
	var out []string
	for _, fs := range m {
		for _, f := range fs {
			out = append(out, f.String())
		}
	}
	sort.Strings(out)
	return out
}

// checkInvariants verifies what OVS requires of the flows: no two owners
// share a flow entry, and every conjunction has all its clauses and its
// conj_id flow.
func checkInvariants(t *testing.T, e *Engine) {
	t.Helper()
	all := e.All()
	keys := map[string]string{}
	clauses := map[uint32]map[uint8]uint8{} // id -> clause -> n
	conjFlows := map[uint32]bool{}
	for o, fs := range all {
		if len(fs) == 0 {
			t.Errorf("owner %s listed without flows", o)
		}
		for _, f := range fs {
			if prev, dup := keys[f.Key()]; dup {
				t.Errorf("flow entry %s owned by %s and %s", f.Key(), prev, o)
			}
			keys[f.Key()] = o
			for _, a := range f.Actions {
				if c, ok := a.(*of.ConjunctionAction); ok {
					if clauses[c.ID] == nil {
						clauses[c.ID] = map[uint8]uint8{}
					}
					clauses[c.ID][c.Clause] = c.NClauses
				}
			}
			if strings.Contains(f.String(), "conj_id=") {
				conjFlows[uint32(f.Cookie)] = true
			}
		}
	}
	for id, cl := range clauses {
		for k, n := range cl {
			if int(n) != len(cl) {
				t.Errorf("conjunction %d: clause %d/%d but %d clauses present", id, k, n, len(cl))
			}
		}
		if !conjFlows[id] {
			t.Errorf("conjunction %d has no conj_id flow", id)
		}
	}
	for id := range conjFlows {
		if clauses[id] == nil {
			t.Errorf("conj_id=%d flow without clauses", id)
		}
	}
}
