package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestNetworkPolicyTruthTable walks the NetworkPolicy semantics users rely
// on, one scenario after the other on the same pods, each checked with the
// full connectivity matrix: default deny ingress and egress, allow from a
// namespace, from a pod label, from an ipBlock with except, to a named
// port, to a port range (endPort), a policy updated while pods talk, and
// deleting policies restoring access. Node -> pod readiness probes must
// keep passing throughout.
func TestNetworkPolicyTruthTable(t *testing.T) {
	l := newNPLab(t)
	all := func(_, _ *npPod, _ int) bool { return true }
	inX := func(p *npPod) bool { return p.key[0] == 'x' }

	l.expect("no policy: everything connects", all)

	l.apply("x", npPolicy("deny-in", nil, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}))
	l.expect("default deny ingress in x", func(_, to *npPod, _ int) bool { return !inX(to) })
	l.podsStayReady()

	allowY := npPolicy("allow-in", nil, nil)
	allowY.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{npNSLabel: "y"}}}}}}
	l.apply("x", allowY)
	l.expect("x allows ingress from namespace y", func(from, to *npPod, _ int) bool { return !inX(to) || !inX(from) })

	allowB := allowY.DeepCopy()
	allowB.Spec.Ingress[0].From = []networkingv1.NetworkPolicyPeer{{
		PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{npPodLabel: "b"}}}}
	l.apply("x", allowB)
	l.expect("policy updated: x allows ingress from its pods labelled pod=b", func(from, to *npPod, _ int) bool {
		return !inX(to) || from.key == "x/b"
	})

	yA := l.pod("y/a").pod.Status.PodIP
	ipb := npPolicy("allow-in", nil, nil)
	ipb.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{
		IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{yA + "/32"}}}}}}
	l.apply("x", ipb)
	l.expect("x allows ingress from 10.0.0.0/8 except y/a", func(from, to *npPod, _ int) bool {
		return !inX(to) || from.key != "y/a"
	})

	named := npPolicy("allow-in", nil, nil)
	named.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{
		Port: ptrTo(intstr.FromString("serve-8082"))}}}}
	l.apply("x", named)
	l.expect("x allows ingress to the named port serve-8082 only", func(_, to *npPod, port int) bool {
		return !inX(to) || port == npPortB
	})

	rng := npPolicy("allow-in", nil, nil)
	tcp := corev1.ProtocolTCP
	rng.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{
		Protocol: &tcp, Port: ptrTo(intstr.FromInt32(8079)), EndPort: ptrTo(int32(8081))}}}}
	l.apply("x", rng)
	l.expect("x allows ingress to ports 8079-8081 only", func(_, to *npPod, port int) bool {
		return !inX(to) || port == npPortA
	})

	l.remove("x", "allow-in")
	l.remove("x", "deny-in")
	l.expect("policies of x deleted: everything connects again", all)

	l.apply("y", npPolicy("deny-out", nil, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}))
	l.expect("default deny egress in y", func(from, _ *npPod, _ int) bool { return inX(from) })
	l.podsStayReady()

	out := npPolicy("allow-out", nil, nil)
	out.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	out.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{npNSLabel: "x"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{npPodLabel: "a"}}}},
		Ports: []networkingv1.NetworkPolicyPort{{Port: ptrTo(intstr.FromInt32(npPortA))}},
	}}
	l.apply("y", out)
	l.expect("y may connect only to x/a on 8080", func(from, to *npPod, port int) bool {
		return inX(from) || (to.key == "x/a" && port == npPortA)
	})

	l.remove("y", "allow-out")
	l.remove("y", "deny-out")
	l.expect("every policy deleted: everything connects again", all)
}

func ptrTo[T any](v T) *T { return &v }

// npPolicy is a policy selecting the pods matching podLabels (nil: all pods
// of its namespace) with the given policy types.
func npPolicy(name string, podLabels map[string]string, types []networkingv1.PolicyType) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: podLabels},
			PolicyTypes: types,
		},
	}
}

func (l *npLab) pod(key string) *npPod {
	for _, p := range l.pods {
		if p.key == key {
			return p
		}
	}
	l.e.t.Fatalf("no pod %s", key)
	return nil
}

// apply creates or replaces a policy in namespace x or y.
func (l *npLab) apply(nsShort string, np *networkingv1.NetworkPolicy) {
	t := l.e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api := l.e.c.cs.NetworkingV1().NetworkPolicies(l.nsOf[nsShort])
	np = np.DeepCopy()
	np.Namespace = l.nsOf[nsShort]
	cur, err := api.Get(ctx, np.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = api.Create(ctx, np, metav1.CreateOptions{})
	case err == nil:
		np.ResourceVersion = cur.ResourceVersion
		_, err = api.Update(ctx, np, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatalf("apply NetworkPolicy %s/%s: %v", nsShort, np.Name, err)
	}
}

// remove deletes a policy.
func (l *npLab) remove(nsShort, name string) {
	t := l.e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := l.e.c.cs.NetworkingV1().NetworkPolicies(l.nsOf[nsShort]).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete NetworkPolicy %s/%s: %v", nsShort, name, err)
	}
}
