package controller

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

func deleting(sn *v1alpha1.SubNet, finalizers ...string) *v1alpha1.SubNet {
	sn.DeletionTimestamp = &metav1.Time{Time: metav1.Now().Rfc3339Copy().Time}
	sn.Finalizers = finalizers
	return sn
}

func podAllocs(n int) map[string]v1alpha1.Allocation {
	m := map[string]v1alpha1.Allocation{}
	for i := 0; i < n; i++ {
		m[fmt.Sprintf("10.0.0.%d", i+2)] = v1alpha1.Allocation{Namespace: "ns", Pod: fmt.Sprint("p", i), Node: "n1", ContainerID: fmt.Sprint("c", i)}
	}
	return m
}

func TestDeletionGuard(t *testing.T) {
	nodeOnly := map[string]v1alpha1.Allocation{"10.0.0.2": {Node: "n1", ContainerID: "node:n1", Interface: "gw0"}}
	tests := []struct {
		name    string
		sn      *v1alpha1.SubNet
		blocks  []*v1alpha1.IPAMBlock
		gone    bool     // the SubNet no longer exists
		blocked string   // substrings of the DeletionBlocked message; "" = not blocked
		left    []string // IPAMBlocks that must remain
		ours    bool     // FinalizerSubnetInUse is still on the SubNet
	}{
		{name: "live subnet gets the finalizer", sn: subnet("a", "10.0.0.0/24"), ours: true},
		{name: "live subnet with other finalizer keeps it", sn: func() *v1alpha1.SubNet {
			s := subnet("a", "10.0.0.0/24")
			s.Finalizers = []string{"example.com/other"}
			return s
		}(), ours: true},
		{name: "pods block the deletion", sn: deleting(subnet("a", "10.0.0.0/24"), FinalizerSubnetInUse),
			blocks: []*v1alpha1.IPAMBlock{
				block("a.1", "a", "10.0.0.0/26", "n1", podAllocs(2)),
				block("a.2", "a", "10.0.0.64/26", "n2", nil),
			},
			blocked: "2 IP(s) in use by 2 pod(s): ns/p0, ns/p1", left: []string{"a.1", "a.2"}, ours: true},
		{name: "many pods are named up to five", sn: deleting(subnet("a", "10.0.0.0/24"), FinalizerSubnetInUse),
			blocks:  []*v1alpha1.IPAMBlock{block("a.1", "a", "10.0.0.0/26", "n1", podAllocs(7))},
			blocked: "7 IP(s) in use by 7 pod(s): ns/p0, ns/p1, ns/p2, ns/p3, ns/p4 and 2 more", left: []string{"a.1"}, ours: true},
		{name: "node addresses do not block and are released", sn: deleting(subnet("a", "10.0.0.0/24"), FinalizerSubnetInUse),
			blocks: []*v1alpha1.IPAMBlock{
				block("a.1", "a", "10.0.0.0/26", "n1", nodeOnly),
				block("a.2", "a", "10.0.0.64/26", "n2", nil),
				block("b.1", "b", "10.1.0.0/26", "n1", podAllocs(1)),
			},
			gone: true, left: []string{"b.1"}},
		{name: "no blocks", sn: deleting(subnet("a", "10.0.0.0/24"), FinalizerSubnetInUse), gone: true},
		{name: "other finalizer stays", sn: deleting(subnet("a", "10.0.0.0/24"), FinalizerSubnetInUse, "example.com/other"),
			blocks: []*v1alpha1.IPAMBlock{block("a.1", "a", "10.0.0.0/26", "n1", nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := NewScheme()
			if err != nil {
				t.Fatal(err)
			}
			objs := []client.Object{tt.sn}
			for _, b := range tt.blocks {
				objs = append(objs, b)
			}
			c := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(objs...).WithStatusSubresource(&v1alpha1.SubNet{}).Build()
			g := &DeletionGuard{Client: c, APIReader: c}
			req := reconcile.Request{NamespacedName: types.NamespacedName{Name: "a"}}
			res, err := g.Reconcile(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			sn := &v1alpha1.SubNet{}
			err = c.Get(ctx, client.ObjectKey{Name: "a"}, sn)
			if tt.gone {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("subnet still there (%v): %+v", err, sn.ObjectMeta)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if controllerutil.ContainsFinalizer(sn, FinalizerSubnetInUse) != tt.ours {
					t.Errorf("finalizers %v", sn.Finalizers)
				}
				for _, f := range tt.sn.Finalizers {
					if f != FinalizerSubnetInUse && !controllerutil.ContainsFinalizer(sn, f) {
						t.Errorf("finalizer %s lost: %v", f, sn.Finalizers)
					}
				}
			}
			cond := meta.FindStatusCondition(sn.Status.Conditions, ConditionReady)
			if tt.blocked != "" {
				if cond == nil || cond.Status != metav1.ConditionFalse || cond.Reason != ReasonDeletionBlocked || !strings.Contains(cond.Message, tt.blocked) {
					t.Fatalf("condition %+v, want message with %q", cond, tt.blocked)
				}
				if res.RequeueAfter != DefaultDeletionRecheck {
					t.Errorf("result %+v", res)
				}
				// A second pass changes nothing.
				rv := sn.ResourceVersion
				if _, err := g.Reconcile(ctx, req); err != nil {
					t.Fatal(err)
				}
				if err := c.Get(ctx, client.ObjectKey{Name: "a"}, sn); err != nil || sn.ResourceVersion != rv {
					t.Errorf("rewritten without change (%v)", err)
				}
			} else if cond != nil && cond.Reason == ReasonDeletionBlocked {
				t.Errorf("unexpected condition %+v", cond)
			}
			blocks := &v1alpha1.IPAMBlockList{}
			if err := c.List(ctx, blocks); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range blocks.Items {
				names = append(names, b.Name)
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.left) && !(len(names) == 0 && len(tt.left) == 0) {
				t.Errorf("blocks left %v, want %v", names, tt.left)
			}
		})
	}
}

func TestDeletionGuardThenRelease(t *testing.T) {
	ctx := context.Background()
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	b := block("a.1", "a", "10.0.0.0/26", "n1", podAllocs(1))
	b.Spec.Allocations["10.0.0.9"] = v1alpha1.Allocation{Node: "n1", ContainerID: "node:n1", Interface: "gw0"}
	c := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(deleting(subnet("a", "10.0.0.0/24"), FinalizerSubnetInUse), b).
		WithStatusSubresource(&v1alpha1.SubNet{}).Build()
	g := &DeletionGuard{Client: c, APIReader: c}
	req := reconcile.Request{NamespacedName: types.NamespacedName{Name: "a"}}
	if _, err := g.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	sn := &v1alpha1.SubNet{}
	if err := c.Get(ctx, client.ObjectKey{Name: "a"}, sn); err != nil {
		t.Fatal(err)
	}
	if cond := meta.FindStatusCondition(sn.Status.Conditions, ConditionReady); cond == nil || cond.Reason != ReasonDeletionBlocked || !strings.Contains(cond.Message, "1 IP(s) in use by 1 pod(s): ns/p0") {
		t.Fatalf("condition %+v", cond)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(b), b); err != nil {
		t.Fatal(err)
	}
	delete(b.Spec.Allocations, "10.0.0.2")
	if err := c.Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Name: "a"}, sn); !apierrors.IsNotFound(err) {
		t.Fatalf("subnet still there: %v", err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(b), b); !apierrors.IsNotFound(err) {
		t.Fatalf("block still there: %v", err)
	}
	if _, err := g.Reconcile(ctx, req); err != nil {
		t.Errorf("gone subnet: %v", err)
	}
}
