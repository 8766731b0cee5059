package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/controller"
)

// What the node admission policy (build/helm/kubefay/templates/node-admission.yaml) says.
const (
	refusedNotOwnNode      = "may only update its own Node, not Node"
	refusedNodeSpec        = "not its spec (taints included)"
	refusedNodeLabels      = "not its labels"
	refusedNodeAnnotations = "not other annotations"
	refusedNodeOwners      = "not its ownerReferences or finalizers"
)

// nodePatch is a merge patch of Node name.
type nodePatch struct {
	node, patch string
}

func (p nodePatch) apply(ctx context.Context, c client.Client) error {
	return c.Patch(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: p.node}}, client.RawPatch(types.MergePatchType, []byte(p.patch)))
}

func problemsPatch(node, value string) nodePatch {
	return nodePatch{node, `{"metadata":{"annotations":{"kubefay.io/subnet-problems":` + value + `}}}`}
}

// TestAgentWritesOnlyItsNodeAnnotation: with the install's RBAC and
// admission policies, node1's agent (a token bound to a pod on node1) sets,
// changes and removes the kubefay.io/subnet-problems annotation of node1 —
// with the agent's own code too — and nothing else: not on node2, not a
// label, taint, other annotation or finalizer of node1; a token without the
// node claim writes nothing; administrators are not limited.
func TestAgentWritesOnlyItsNodeAnnotation(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.installManifests(t, "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
	node1 := e.clientWithToken(t, e.agentToken(t, "node1"))
	e.agentToken(t, "node2") // creates node2
	unbound := e.clientWithToken(t, e.saToken(t, "kubefay-agent", nil))
	// node1 as kubelet and an administrator made it: a label, an annotation, a taint
	if err := (nodePatch{"node1", `{"metadata":{"labels":{"zone":"a"},"annotations":{"owner":"ops"}},"spec":{"taints":[{"key":"k","value":"v","effect":"NoSchedule"}]}}`}).apply(ctx, e.c); err != nil {
		t.Fatal(err)
	}
	waitNodePolicy(t, node1)

	tests := []struct {
		name    string
		as      client.Client
		do      nodePatch
		wantErr string // "" = allowed
	}{
		{"node1 sets its problems", node1, problemsPatch("node1", `"{\"clash\":\"route to 172.17.0.0/16 is held\"}"`), ""},
		{"node1 changes its problems", node1, problemsPatch("node1", `"{\"other\":\"x\"}"`), ""},
		{"node1 removes its problems", node1, problemsPatch("node1", `null`), ""},
		{"node1 removes them again", node1, problemsPatch("node1", `null`), ""},
		{"node1 sets node2's problems", node1, problemsPatch("node2", `"{}"`), refusedNotOwnNode},
		{"node1 adds a label", node1, nodePatch{"node1", `{"metadata":{"labels":{"x":"y"}}}`}, refusedNodeLabels},
		{"node1 changes a label", node1, nodePatch{"node1", `{"metadata":{"labels":{"zone":"b"}}}`}, refusedNodeLabels},
		{"node1 sets problems and a label", node1, nodePatch{"node1", `{"metadata":{"labels":{"x":"y"},"annotations":{"kubefay.io/subnet-problems":"{}"}}}`}, refusedNodeLabels},
		{"node1 removes another annotation", node1, nodePatch{"node1", `{"metadata":{"annotations":{"owner":null}}}`}, refusedNodeAnnotations},
		{"node1 adds another annotation", node1, nodePatch{"node1", `{"metadata":{"annotations":{"kubefay.io/other":"x"}}}`}, refusedNodeAnnotations},
		{"node1 removes its taint", node1, nodePatch{"node1", `{"spec":{"taints":null}}`}, refusedNodeSpec},
		{"node1 cordons itself", node1, nodePatch{"node1", `{"spec":{"unschedulable":true}}`}, refusedNodeSpec},
		{"node1 adds a finalizer", node1, nodePatch{"node1", `{"metadata":{"finalizers":["example.com/x"]}}`}, refusedNodeOwners},
		{"agent token without a node", unbound, problemsPatch("node1", `"{}"`), refusedNoNode},
		{"administrator labels node1", e.c, nodePatch{"node1", `{"metadata":{"labels":{"admin":"yes"}}}`}, ""},
		{"administrator sets node2's problems", e.c, problemsPatch("node2", `"{}"`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do.apply(ctx, tt.as)
			expectRefusal(t, err, tt.wantErr)
		})
	}
	t.Run("node1 deletes node2", func(t *testing.T) {
		err := node1.Delete(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node2"}})
		if err == nil || !strings.Contains(err.Error(), "cannot delete resource") {
			t.Fatalf("err = %v, want RBAC's refusal", err)
		}
	})
	t.Run("the agent's own patch", func(t *testing.T) {
		n := &corev1.Node{}
		for _, problems := range []map[string]string{{"clash": "route to 172.17.0.0/16 is held by protocol 3 (dev docker0)"}, nil} {
			if err := agent.PublishSubnetProblems(ctx, node1, "node1", problems); err != nil {
				t.Fatalf("publishing %v: %v", problems, err)
			}
			if err := e.c.Get(ctx, client.ObjectKey{Name: "node1"}, n); err != nil {
				t.Fatal(err)
			}
			v, ok := n.Annotations[v1alpha1.NodeSubnetProblemsAnnotation]
			if (len(problems) > 0) != ok || (ok && !strings.Contains(v, "docker0")) {
				t.Fatalf("after publishing %v: annotation %q (present %v)", problems, v, ok)
			}
		}
		if err := agent.PublishSubnetProblems(ctx, node1, "node2", map[string]string{"x": "y"}); err == nil || !strings.Contains(err.Error(), refusedNotOwnNode) {
			t.Fatalf("publishing on node2: %v", err)
		}
		if n.Labels["zone"] != "a" || n.Annotations["owner"] != "ops" || len(n.Spec.Taints) != 1 {
			t.Errorf("node1 changed: labels %v annotations %v taints %v", n.Labels, n.Annotations, n.Spec.Taints)
		}
	})
}

// waitNodePolicy waits until the apiserver refuses node1 a write of node2's
// annotation (it picks policies up asynchronously).
func waitNodePolicy(t *testing.T, node1 client.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := problemsPatch("node2", `"{}"`).apply(context.Background(), node1)
		if err != nil && strings.Contains(err.Error(), refusedNotOwnNode) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("node admission policy not in effect after 30s (last answer: %v)", err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSubnetProgrammedCondition: the controller shows a node's published
// problem as the SubNet's Programmed=False naming the node and the route,
// and Programmed=True again once the node's agent removes it.
func TestSubnetProgrammedCondition(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.create(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1"}}, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node2"}},
		&v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "clash"}, Spec: v1alpha1.SubNetSpec{CIDR: "10.60.0.0/16"}})
	e.runController(t, controllerConfig())
	programmed := func(want metav1.ConditionStatus, msg ...string) func() string {
		return func() string {
			sn, err := getSubnet(e, "clash")
			if err != nil {
				return err.Error()
			}
			c := meta.FindStatusCondition(sn.Status.Conditions, controller.ConditionProgrammed)
			if c == nil || c.Status != want {
				return fmt.Sprintf("Programmed = %+v, want %s", c, want)
			}
			for _, m := range msg {
				if !strings.Contains(c.Message, m) {
					return fmt.Sprintf("Programmed message %q lacks %q", c.Message, m)
				}
			}
			if r := meta.FindStatusCondition(sn.Status.Conditions, controller.ConditionReady); r == nil || r.Status != metav1.ConditionTrue {
				return fmt.Sprintf("Ready = %+v", r)
			}
			return ""
		}
	}
	eventually(t, 30*time.Second, programmed(metav1.ConditionTrue))
	route := "route to 10.60.0.0/16 is held by protocol 3 (dev docker0)"
	if err := agent.PublishSubnetProblems(ctx, e.c, "node2", map[string]string{"clash": route}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, programmed(metav1.ConditionFalse, "node2: "+route))
	if err := agent.PublishSubnetProblems(ctx, e.c, "node2", nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, programmed(metav1.ConditionTrue))
}
