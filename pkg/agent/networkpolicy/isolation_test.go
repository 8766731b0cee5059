package networkpolicy

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
)

func TestIsolatingPolicies(t *testing.T) {
	e := NewEngine(testNode)
	e.SetPod(mkPod("prod", "web", "10.0.0.1", testNode, lbl("app=web")))
	e.SetPolicy(mkPolicy("prod", "deny-in", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=web")}))
	e.SetPolicy(mkPolicy("prod", "all-out", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress, networkingv1.PolicyTypeIngress}}))
	e.SetPolicy(mkPolicy("prod", "db-only", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db")}))
	for _, tc := range []struct {
		pod  string
		dir  Direction
		want []string
	}{
		{"prod/web", Ingress, []string{"prod/all-out", "prod/deny-in"}},
		{"prod/web", Egress, []string{"prod/all-out"}},
		{"prod/none", Ingress, nil},
	} {
		if got := e.IsolatingPolicies(tc.pod, tc.dir); !slices.Equal(got, tc.want) {
			t.Errorf("IsolatingPolicies(%s, %s) = %v, want %v", tc.pod, tc.dir, got, tc.want)
		}
	}
}
