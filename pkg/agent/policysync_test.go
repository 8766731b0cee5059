package agent

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

type nullSwitch struct{}

func (nullSwitch) Installed(context.Context) ([]*of.Flow, error)                   { return nil, nil }
func (nullSwitch) Apply(context.Context, []*of.Flow, []*of.Flow, []*of.Flow) error { return nil }

// TestPolicyKnowsPodFromCNIAdd: a pod selected by a deny-all policy gets its
// drop flow from the CNI ADD on, whatever the (lagging) informer says, and
// loses it when the pod object is deleted.
func TestPolicyKnowsPodFromCNIAdd(t *testing.T) {
	ps := newPolicySync("n1", flowsync.New[*of.Flow](nullSwitch{}))
	ps.observe(&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "deny"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}, false)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: corev1.PodSpec{NodeName: "n1"}}
	denyFlows := func() int {
		n := 0
		for _, f := range ps.flows.Desired() {
			if strings.Contains(f.String(), "nw_dst=10.192.0.7") && strings.Contains(f.String(), "drop") {
				n++
			}
		}
		return n
	}
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"informer: pod without an IP yet", func() { ps.observe(pod, false) }, 0},
		{"CNI ADD", func() { ps.Attach(PodRef{Namespace: "ns", Name: "p"}, netip.MustParseAddr("10.192.0.7")) }, 1},
		{"informer: a stale update without an IP", func() { ps.observe(pod.DeepCopy(), false); ps.stage() }, 1},
		{"informer: pod deleted", func() { ps.observe(toolscache.DeletedFinalStateUnknown{Obj: pod}, true); ps.stage() }, 0},
	}
	for _, st := range steps {
		st.do()
		ps.stage()
		if got := denyFlows(); got != st.want {
			t.Fatalf("%s: %d deny flows for the pod, want %d", st.name, got, st.want)
		}
	}
}
