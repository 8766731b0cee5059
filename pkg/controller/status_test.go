package controller

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
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

func subnet(name, cidr string, excl ...string) *v1alpha1.SubNet {
	return &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.SubNetSpec{IPVersion: "v4", CIDR: cidr, ExcludeIPs: excl}}
}

func block(name, subnet, cidr, node string, allocs map[string]v1alpha1.Allocation) *v1alpha1.IPAMBlock {
	return &v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.IPAMBlockSpec{Subnet: subnet, CIDR: cidr, Node: node, Allocations: allocs}}
}

func TestComputeStatus(t *testing.T) {
	many := map[string]v1alpha1.Allocation{}
	for i := 0; i < 300; i++ {
		many[fmt.Sprintf("10.1.%d.%d", i/250, i%250+2)] = v1alpha1.Allocation{Pod: fmt.Sprint("p", i), Node: "n1"}
	}
	tests := []struct {
		name        string
		sn          *v1alpha1.SubNet
		blocks      []v1alpha1.IPAMBlock
		used, avail int64
		usedIPs     int
		firstIP     string
		gateway     string
		summary     string
		ready       metav1.ConditionStatus
	}{
		{name: "empty", sn: subnet("a", "10.0.0.0/24"), used: 0, avail: 253, gateway: "10.0.0.1", ready: metav1.ConditionTrue},
		{name: "counts only its own blocks, sorted", sn: subnet("a", "10.0.0.0/24", "10.0.0.200..10.0.0.209"), blocks: []v1alpha1.IPAMBlock{
			*block("a.1", "a", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{"10.0.0.10": {Pod: "x"}, "10.0.0.3": {Pod: "y"}}),
			*block("b.1", "b", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{"10.0.0.4": {Pod: "z"}}),
		}, used: 2, avail: 253 - 10 - 2, usedIPs: 2, firstIP: "10.0.0.3", gateway: "10.0.0.1", ready: metav1.ConditionTrue,
			summary: "2 of 243 addresses used (2 pods, 0 node addresses), 241 available"},
		{name: "bounded list", sn: subnet("a", "10.1.0.0/16"), blocks: []v1alpha1.IPAMBlock{*block("a.1", "a", "10.1.0.0/22", "n1", many)},
			used: 300, avail: 65533 - 300, usedIPs: v1alpha1.MaxUsedIPsInStatus, firstIP: "10.1.0.2", gateway: "10.1.0.1", ready: metav1.ConditionTrue,
			summary: "300 of 65533 addresses used (300 pods, 0 node addresses), 65233 available; usedPool lists the first 256"},
		{name: "invalid spec", sn: subnet("a", "nonsense"), ready: metav1.ConditionFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ComputeStatus(tt.sn, tt.blocks)
			if st.Used != tt.used || st.Available != tt.avail || len(st.UsedPool) != tt.usedIPs || st.Gateway != tt.gateway || len(st.UsedIPs) != 0 {
				t.Fatalf("status used %d avail %d usedPool %d gateway %q usedIPs %d; want %d %d %d %q 0", st.Used, st.Available, len(st.UsedPool), st.Gateway, len(st.UsedIPs), tt.used, tt.avail, tt.usedIPs, tt.gateway)
			}
			if tt.firstIP != "" && !strings.HasPrefix(st.UsedPool[0], tt.firstIP+" ") {
				t.Errorf("first used IP line %q, want it to start with %s", st.UsedPool[0], tt.firstIP)
			}
			if tt.summary != "" && st.PoolStatus != tt.summary {
				t.Errorf("poolStatus %q, want %q", st.PoolStatus, tt.summary)
			}
			if len(st.Conditions) != 1 || st.Conditions[0].Status != tt.ready {
				t.Errorf("conditions %+v", st.Conditions)
			}
		})
	}
}

func TestStatusReconcilerWritesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	b := block("a.1", "a", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{"10.0.0.2": {Pod: "x"}})
	c := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(subnet("a", "10.0.0.0/24"), b).WithStatusSubresource(&v1alpha1.SubNet{}).Build()
	now := time.Unix(1000, 0)
	r := &StatusReconciler{Client: c, MinInterval: time.Second, Now: func() time.Time { return now }}
	reconcileOnce := func() (reconcile.Result, *v1alpha1.SubNet) {
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "a"}})
		if err != nil {
			t.Fatal(err)
		}
		sn := &v1alpha1.SubNet{}
		if err := c.Get(ctx, client.ObjectKey{Name: "a"}, sn); err != nil {
			t.Fatal(err)
		}
		return res, sn
	}
	_, sn := reconcileOnce()
	if sn.Status.Used != 1 || sn.Status.Available != 252 || sn.Status.Gateway != "10.0.0.1" {
		t.Fatalf("status %+v", sn.Status)
	}
	rv := sn.ResourceVersion
	// A change within MinInterval waits.
	b.Spec.Allocations["10.0.0.3"] = v1alpha1.Allocation{Pod: "y"}
	if err := c.Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	res, sn := reconcileOnce()
	if res.RequeueAfter != time.Second || sn.Status.Used != 1 {
		t.Fatalf("within the interval: %+v, used %d", res, sn.Status.Used)
	}
	now = now.Add(time.Second)
	_, sn = reconcileOnce()
	if sn.Status.Used != 2 {
		t.Fatalf("after the interval: used %d", sn.Status.Used)
	}
	rv = sn.ResourceVersion
	now = now.Add(time.Second)
	if _, sn = reconcileOnce(); sn.ResourceVersion != rv {
		t.Errorf("unchanged status rewritten")
	}
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "gone"}}); err != nil {
		t.Errorf("missing subnet: %v", err)
	}
}

func nodeMeta(name string, problems string) metav1.PartialObjectMetadata {
	n := metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
	if problems != "" {
		n.Annotations = map[string]string{v1alpha1.NodeSubnetProblemsAnnotation: problems, "other": "x"}
	}
	return n
}

// TestProgrammedCondition: Programmed is True while no Node reports a
// problem with the SubNet, else False naming each such node (sorted) and
// its problem, bounded in length.
func TestProgrammedCondition(t *testing.T) {
	docker0 := `{"clash":"route to 172.17.0.0/16 is held by protocol 3 (dev docker0), not kubefay: not replacing it","other":"x"}`
	var many []metav1.PartialObjectMetadata
	for i := 0; i < 50; i++ {
		many = append(many, nodeMeta(fmt.Sprintf("node%02d", i), `{"clash":"`+strings.Repeat("r", 1000)+`"}`))
	}
	tests := []struct {
		name    string
		nodes   []metav1.PartialObjectMetadata
		status  metav1.ConditionStatus
		reason  string
		message []string // in this order
		absent  []string
	}{
		{name: "no nodes", status: metav1.ConditionTrue, reason: "AllNodes"},
		{name: "no problems", nodes: []metav1.PartialObjectMetadata{nodeMeta("node1", ""), nodeMeta("node2", `{}`)},
			status: metav1.ConditionTrue, reason: "AllNodes"},
		{name: "another subnet's problem", nodes: []metav1.PartialObjectMetadata{nodeMeta("node1", `{"other":"x"}`)},
			status: metav1.ConditionTrue, reason: "AllNodes"},
		{name: "one node", nodes: []metav1.PartialObjectMetadata{nodeMeta("node1", ""), nodeMeta("node2", docker0)},
			status: metav1.ConditionFalse, reason: "RouteConflict",
			message: []string{"1 node", "node2: route to 172.17.0.0/16 is held by protocol 3 (dev docker0)"}, absent: []string{"node1"}},
		{name: "two nodes, sorted", nodes: []metav1.PartialObjectMetadata{nodeMeta("node3", docker0), nodeMeta("node1", `{"clash":"route to 172.17.0.0/16 is held by protocol 4 (dev br0)"}`)},
			status: metav1.ConditionFalse, reason: "RouteConflict",
			message: []string{"2 node", "node1: route to 172.17.0.0/16 is held by protocol 4 (dev br0)", "node3: route"}},
		{name: "unreadable annotation ignored", nodes: []metav1.PartialObjectMetadata{nodeMeta("node1", `not json`)},
			status: metav1.ConditionTrue, reason: "AllNodes"},
		{name: "bounded", nodes: many, status: metav1.ConditionFalse, reason: "RouteConflict",
			message: []string{"50 node", "node00: rrr", "and 40 more"}, absent: []string{"node10:", "node49"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn := subnet("clash", "172.17.0.0/16")
			sn.Generation = 3
			c := ProgrammedCondition(sn, tt.nodes)
			if c.Type != ConditionProgrammed || c.Status != tt.status || c.Reason != tt.reason || c.ObservedGeneration != 3 {
				t.Fatalf("condition %+v, want %s %s", c, tt.status, tt.reason)
			}
			if len(c.Message) > maxProgrammedMessage {
				t.Errorf("message of %d bytes", len(c.Message))
			}
			rest := c.Message
			for _, m := range tt.message {
				i := strings.Index(rest, m)
				if i < 0 {
					t.Fatalf("message %q lacks %q (in order)", c.Message, m)
				}
				rest = rest[i+len(m):]
			}
			for _, m := range tt.absent {
				if strings.Contains(c.Message, m) {
					t.Errorf("message %q contains %q", c.Message, m)
				}
			}
		})
	}
}

// TestStatusReconcilerProgrammed: the reconciler reads the Nodes and sets
// Programmed next to Ready, and clears it when the node's problem is gone.
func TestStatusReconcilerProgrammed(t *testing.T) {
	ctx := context.Background()
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node1", Annotations: map[string]string{
		v1alpha1.NodeSubnetProblemsAnnotation: `{"a":"route to 10.0.0.0/24 is held by protocol 3 (dev docker0)"}`}}}
	c := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(subnet("a", "10.0.0.0/24"), node).WithStatusSubresource(&v1alpha1.SubNet{}).Build()
	r := &StatusReconciler{Client: c}
	get := func() *v1alpha1.SubNet {
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "a"}}); err != nil {
			t.Fatal(err)
		}
		sn := &v1alpha1.SubNet{}
		if err := c.Get(ctx, client.ObjectKey{Name: "a"}, sn); err != nil {
			t.Fatal(err)
		}
		return sn
	}
	sn := get()
	p := meta.FindStatusCondition(sn.Status.Conditions, ConditionProgrammed)
	if p == nil || p.Status != metav1.ConditionFalse || !strings.Contains(p.Message, "node1: route to 10.0.0.0/24 is held by protocol 3 (dev docker0)") {
		t.Fatalf("Programmed = %+v", p)
	}
	if ready := meta.FindStatusCondition(sn.Status.Conditions, ConditionReady); ready == nil || ready.Status != metav1.ConditionTrue {
		t.Fatalf("Ready = %+v", ready)
	}
	delete(node.Annotations, v1alpha1.NodeSubnetProblemsAnnotation)
	if err := c.Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	if p := meta.FindStatusCondition(get().Status.Conditions, ConditionProgrammed); p == nil || p.Status != metav1.ConditionTrue || p.Reason != "AllNodes" {
		t.Fatalf("after the problem is gone: Programmed = %+v", p)
	}
}

// TestSubnetsOfNode: a Node event enqueues the SubNets its annotation names.
func TestSubnetsOfNode(t *testing.T) {
	n := nodeMeta("node1", `{"b":"x","a":"y"}`)
	got := subnetsOfNode(context.Background(), &n)
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("requests %v", got)
	}
	if got := subnetsOfNode(context.Background(), &corev1.Node{}); len(got) != 0 {
		t.Errorf("node without problems: %v", got)
	}
	old, cur := nodeMeta("node1", `{"a":"y"}`), nodeMeta("node1", `{"a":"y"}`)
	cur.ResourceVersion = "2"
	if problemsChanged.Update(event.UpdateEvent{ObjectOld: &old, ObjectNew: &cur}) {
		t.Errorf("a node update that keeps the problems passes the filter")
	}
	cur = nodeMeta("node1", "")
	if !problemsChanged.Update(event.UpdateEvent{ObjectOld: &old, ObjectNew: &cur}) {
		t.Errorf("a node update that clears the problems is filtered out")
	}
}

// TestStatusWriteAfterStaleCache: when the cache still holds an older
// SubNet (it lags behind under a burst), the status write conflicts; the
// reconciler writes on the API server's copy at once instead of requeueing
// with a backoff that grows with every conflict (which held status back by
// a minute at 1000 nodes).
func TestStatusWriteAfterStaleCache(t *testing.T) {
	ctx := context.Background()
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	b := block("a.1", "a", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{"10.0.0.2": {Pod: "x"}})
	api := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).
		WithObjects(subnet("a", "10.0.0.0/24"), b).WithStatusSubresource(&v1alpha1.SubNet{}).Build()
	stale := &v1alpha1.SubNet{}
	if err := api.Get(ctx, client.ObjectKey{Name: "a"}, stale); err != nil {
		t.Fatal(err)
	}
	newer := stale.DeepCopy()
	newer.Labels = map[string]string{"touched": "yes"}
	if err := api.Update(ctx, newer); err != nil {
		t.Fatal(err)
	}
	cached := interceptor.NewClient(api, interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if sn, ok := obj.(*v1alpha1.SubNet); ok {
			stale.DeepCopyInto(sn)
			return nil
		}
		return c.Get(ctx, key, obj, opts...)
	}})
	r := &StatusReconciler{Client: cached, APIReader: api}
	res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	got := &v1alpha1.SubNet{}
	if err := api.Get(ctx, client.ObjectKey{Name: "a"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Used != 1 || got.Labels["touched"] != "yes" {
		t.Fatalf("after a conflict: result %+v, status used %d, labels %v", res, got.Status.Used, got.Labels)
	}
}
