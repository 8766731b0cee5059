package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// TestSubnetDeletionGuard: a SubNet whose addresses pods hold survives its
// deletion with a DeletionBlocked condition naming them; once they release
// their addresses the SubNet and its IPAMBlocks go (a node's own address
// does not block). The default SubNet is guarded the same way.
func TestSubnetDeletionGuard(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.create(t, podNamespace("ns")...)
	// The pods exist, so the garbage collector leaves their addresses.
	uids := map[string]string{}
	for _, name := range []string{"p0", "p1"} {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec: corev1.PodSpec{NodeName: "n1", AutomountServiceAccountToken: new(bool),
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
		if err := e.c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		uids[name] = string(p.UID)
	}
	e.runController(t, controllerConfig())

	sn := &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "guarded"}, Spec: v1alpha1.SubNetSpec{CIDR: "10.50.0.0/24"}}
	if err := e.c.Create(ctx, sn); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() string {
		for _, name := range []string{"guarded", "defaultnet"} {
			sn, err := getSubnet(e, name)
			if err != nil {
				return err.Error()
			}
			if !controllerutil.ContainsFinalizer(sn, controller.FinalizerSubnetInUse) {
				return fmt.Sprintf("%s: finalizers %v", name, sn.Finalizers)
			}
		}
		return ""
	})

	alloc := ipam.New(e.c, ipam.Options{})
	for _, name := range []string{"p0", "p1"} {
		if _, err := alloc.Allocate(ctx, ipam.Request{Subnet: "guarded", Node: "n1", Namespace: "ns", Pod: name, PodUID: uids[name], ContainerID: "c-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := alloc.Allocate(ctx, ipam.Request{Subnet: "guarded", Node: "n1", ContainerID: "node:n1", Interface: "gw0"}); err != nil {
		t.Fatal(err)
	}
	blocksOf := func(subnet string) (int, error) {
		l := &v1alpha1.IPAMBlockList{}
		if err := e.c.List(ctx, l); err != nil {
			return 0, err
		}
		n := 0
		for _, b := range l.Items {
			if b.Spec.Subnet == subnet {
				n++
			}
		}
		return n, nil
	}

	if err := e.c.Delete(ctx, sn); err != nil {
		t.Fatal(err)
	}
	var msg string
	eventually(t, 30*time.Second, func() string {
		sn, err := getSubnet(e, "guarded")
		if err != nil {
			return err.Error()
		}
		c := meta.FindStatusCondition(sn.Status.Conditions, controller.ConditionReady)
		if sn.DeletionTimestamp.IsZero() || c == nil || c.Status != metav1.ConditionFalse || c.Reason != controller.ReasonDeletionBlocked {
			return fmt.Sprintf("deletionTimestamp %v conditions %+v", sn.DeletionTimestamp, sn.Status.Conditions)
		}
		msg = c.Message
		return ""
	})
	for _, want := range []string{"2 IP(s) in use", "ns/p0", "ns/p1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if n, err := blocksOf("guarded"); err != nil || n == 0 {
		t.Fatalf("blocks of the blocked subnet: %d (%v)", n, err)
	}
	t.Logf("blocked: %s", msg)

	for _, name := range []string{"p0", "p1"} {
		if err := alloc.ReleasePod(ctx, "ns", name); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, func() string {
		if _, err := getSubnet(e, "guarded"); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("subnet still there (%v)", err)
		}
		if n, err := blocksOf("guarded"); err != nil || n != 0 {
			return fmt.Sprintf("%d blocks left (%v)", n, err)
		}
		return ""
	})

	// The unused default subnet goes too.
	if err := e.c.Delete(ctx, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "defaultnet"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() string {
		if _, err := getSubnet(e, "defaultnet"); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("default subnet still there (%v)", err)
		}
		return ""
	})
}
