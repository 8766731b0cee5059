package scale

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// The layout: pod i runs on node i%nodes; a node's pods are spread over
// subnetsPerNode namespaces, namespace k being the only one of SubNet k
// (a /20 each, from 10.128.0.0: inside the lab's leak guard, never routed
// here anyway). Each SubNet is thus used by about 20 nodes, each with one
// /26 block of it.

func nodeName(n int) string      { return fmt.Sprintf("kwok-node-%04d", n) }
func subnetName(k int) string    { return fmt.Sprintf("sn-%03d", k) }
func namespaceName(k int) string { return fmt.Sprintf("ns-%03d", k) }
func podName(i int) string       { return fmt.Sprintf("p-%06d", i) }

func (s size) podNode(i int) int { return i % s.nodes }

func (s size) podSubnet(i int) int {
	n, j := i%s.nodes, i/s.nodes
	return (n*subnetsPerNode + j%subnetsPerNode) % s.subnets
}

func subnetCIDR(k int) string {
	v := uint32(0x0a800000) + uint32(k)<<12 // 10.128.0.0 + k /20s
	return addr4(v).String() + "/20"
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func subnet(k int) *v1alpha1.SubNet {
	return &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: subnetName(k)},
		Spec: v1alpha1.SubNetSpec{CIDR: subnetCIDR(k), Namespaces: []string{namespaceName(k)}}}
}

func namespace(k int) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceName(k),
		Labels: map[string]string{"team": fmt.Sprint("t", k%5)}}}
}

// node is a Node kwok manages (it keeps it Ready and runs its pods). kwok
// gives pods status.podIP from the node's podCIDR (a /24 from 10.160.0.0;
// kubefay's allocations are not in pod status here).
func node(n int) *corev1.Node {
	v := uint32(0x0aa00000) + uint32(n)<<8 // 10.160.0.0 + n /24s
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: nodeName(n),
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": nodeName(n)},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}},
		Spec: corev1.NodeSpec{PodCIDR: addr4(v).String() + "/24", Taints: []corev1.Taint{{Key: "kwok.x-k8s.io/node", Value: "fake", Effect: corev1.TaintEffectNoSchedule}}},
	}
}

// pod is bound to its node directly (spec.nodeName: no scheduler).
func (s size) pod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName(i), Namespace: namespaceName(s.podSubnet(i)),
			Labels: map[string]string{"app": fmt.Sprint("g", (i/s.nodes)%10)}},
		Spec: corev1.PodSpec{
			NodeName:                      nodeName(s.podNode(i)),
			Containers:                    []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10.2", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}},
			Tolerations:                   []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			TerminationGracePeriodSeconds: ptr.To[int64](0),
		},
	}
}

// policy q of namespace k: pods app=g(q%10) accept port http from app=g(q+1)
// of the namespaces of team t(q%5).
func policy(k, q int) *networkingv1.NetworkPolicy {
	port := intstr.FromString("http")
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("np-%03d", q), Namespace: namespaceName(k)},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprint("g", q%10)}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": fmt.Sprint("t", q%5)}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": fmt.Sprint("g", (q+1)%10)}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
			}},
		},
	}
}
