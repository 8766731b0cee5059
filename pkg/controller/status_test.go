package controller

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
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
		ready       metav1.ConditionStatus
	}{
		{name: "empty", sn: subnet("a", "10.0.0.0/24"), used: 0, avail: 253, gateway: "10.0.0.1", ready: metav1.ConditionTrue},
		{name: "counts only its own blocks, sorted", sn: subnet("a", "10.0.0.0/24", "10.0.0.200..10.0.0.209"), blocks: []v1alpha1.IPAMBlock{
			*block("a.1", "a", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{"10.0.0.10": {Pod: "x"}, "10.0.0.3": {Pod: "y"}}),
			*block("b.1", "b", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{"10.0.0.4": {Pod: "z"}}),
		}, used: 2, avail: 253 - 10 - 2, usedIPs: 2, firstIP: "10.0.0.3", gateway: "10.0.0.1", ready: metav1.ConditionTrue},
		{name: "bounded list", sn: subnet("a", "10.1.0.0/16"), blocks: []v1alpha1.IPAMBlock{*block("a.1", "a", "10.1.0.0/22", "n1", many)},
			used: 300, avail: 65533 - 300, usedIPs: v1alpha1.MaxUsedIPsInStatus, firstIP: "10.1.0.2", gateway: "10.1.0.1", ready: metav1.ConditionTrue},
		{name: "invalid spec", sn: subnet("a", "nonsense"), ready: metav1.ConditionFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ComputeStatus(tt.sn, tt.blocks)
			if st.Used != tt.used || st.Available != tt.avail || len(st.UsedIPs) != tt.usedIPs || st.Gateway != tt.gateway {
				t.Fatalf("status used %d avail %d usedIPs %d gateway %q; want %d %d %d %q", st.Used, st.Available, len(st.UsedIPs), st.Gateway, tt.used, tt.avail, tt.usedIPs, tt.gateway)
			}
			if tt.firstIP != "" && st.UsedIPs[0].IP != tt.firstIP {
				t.Errorf("first used IP %s, want %s", st.UsedIPs[0].IP, tt.firstIP)
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
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(subnet("a", "10.0.0.0/24"), b).WithStatusSubresource(&v1alpha1.SubNet{}).Build()
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
