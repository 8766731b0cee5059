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
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// gcGrace is the garbage collector's grace period in these tests.
const gcGrace = 8 * time.Second

func controllerConfig() *controller.Config {
	off := false
	return &controller.Config{
		DefaultSubnet:  controller.SubnetConfig{Name: "defaultnet", CIDR: "10.192.0.0/16"},
		MetricsAddress: "0", HealthAddress: "0",
		LeaderElection: controller.LeaderElectionConfig{Enabled: &off},
		GC:             controller.GCConfig{Interval: metav1.Duration{Duration: 300 * time.Millisecond}, Grace: metav1.Duration{Duration: gcGrace}},
		StatusInterval: metav1.Duration{Duration: 200 * time.Millisecond},
	}
}

func getSubnet(e *env, name string) (*v1alpha1.SubNet, error) {
	sn := &v1alpha1.SubNet{}
	return sn, e.c.Get(context.Background(), client.ObjectKey{Name: name}, sn)
}

// TestDefaultSubnetAndStatus: the controller (with leader election, as
// deployed) creates the default SubNet from its configuration and keeps
// the status counts in line with the allocations.
func TestDefaultSubnetAndStatus(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	cfg := controllerConfig()
	on := true
	cfg.LeaderElection = controller.LeaderElectionConfig{Enabled: &on, Namespace: "kube-system"}
	e.runController(t, cfg)

	eventually(t, 60*time.Second, func() string {
		sn, err := getSubnet(e, "defaultnet")
		if err != nil {
			return err.Error()
		}
		ready := meta.FindStatusCondition(sn.Status.Conditions, controller.ConditionReady)
		if sn.Spec.CIDR != "10.192.0.0/16" || sn.Status.Gateway != "10.192.0.1" || sn.Status.Used != 0 || sn.Status.Available != 65533 || ready == nil || ready.Status != metav1.ConditionTrue {
			return fmt.Sprintf("subnet spec %+v status %+v", sn.Spec, sn.Status)
		}
		return ""
	})

	alloc := ipam.New(e.c, ipam.Options{DefaultSubnet: "defaultnet"})
	for i := 0; i < 5; i++ {
		if _, err := alloc.Allocate(ctx, ipam.Request{Node: "n1", Namespace: "ns", Pod: fmt.Sprint("p", i), ContainerID: fmt.Sprint("c", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := alloc.Release(ctx, "c4", ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() string {
		sn, err := getSubnet(e, "defaultnet")
		if err != nil {
			return err.Error()
		}
		if sn.Status.Used != 4 || sn.Status.Available != 65529 || len(sn.Status.UsedPool) != 4 || !strings.Contains(sn.Status.UsedPool[0], " ns/p") {
			return fmt.Sprintf("status %+v", sn.Status)
		}
		return ""
	})
	sn, _ := getSubnet(e, "defaultnet")
	t.Logf("status: gateway %s used %d available %d usedPool[0] %q", sn.Status.Gateway, sn.Status.Used, sn.Status.Available, sn.Status.UsedPool[0])
}

// TestGarbageCollection: allocations of pods that do not exist (or no
// longer) are freed once older than the grace period; those of live pods
// never are; blocks of deleted nodes go once empty.
func TestGarbageCollection(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.create(t, append(podNamespace("ns"), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})...)
	live := map[string]string{} // pod -> UID
	for i := 0; i < 5; i++ {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprint("live-", i)},
			Spec: corev1.PodSpec{NodeName: "n1", AutomountServiceAccountToken: new(bool),
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
		}
		if err := e.c.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		live[p.Name] = string(p.UID)
	}
	e.runController(t, controllerConfig())
	eventually(t, 60*time.Second, func() string {
		if _, err := getSubnet(e, "defaultnet"); err != nil {
			return err.Error()
		}
		return ""
	})

	// Allocations made "a minute ago" (past the grace period) ...
	past := ipam.New(e.c, ipam.Options{DefaultSubnet: "defaultnet", Now: func() time.Time { return time.Now().Add(-time.Minute) }})
	// ... and one made now, for a pod that does not exist (yet).
	present := ipam.New(e.c, ipam.Options{DefaultSubnet: "defaultnet"})
	type owner struct{ node, pod, uid, container, iface string }
	owners := []owner{{node: "n1", container: "node:n1", iface: "gw0"}, {node: "gone-node", container: "node:gone-node", iface: "gw0"}}
	for name, uid := range live {
		owners = append(owners, owner{node: "n1", pod: name, uid: uid, container: "c-" + name})
	}
	for i := 0; i < 5; i++ {
		owners = append(owners, owner{node: "n1", pod: fmt.Sprint("ghost-", i), uid: "ghost", container: fmt.Sprint("c-ghost-", i)})
	}
	owners = append(owners, owner{node: "n1", pod: "live-0", uid: "old-incarnation", container: "c-old-live-0", iface: "net1"})
	for _, o := range owners {
		if _, err := past.Allocate(ctx, ipam.Request{Node: o.node, Namespace: nsOf(o.pod), Pod: o.pod, PodUID: o.uid, ContainerID: o.container, Interface: o.iface}); err != nil {
			t.Fatal(err)
		}
	}
	addedAt := time.Now()
	if _, err := present.Allocate(ctx, ipam.Request{Node: "n1", Namespace: "ns", Pod: "being-added", ContainerID: "c-being-added"}); err != nil {
		t.Fatal(err)
	}

	holders := func() (map[string]bool, map[string]string, error) {
		blocks := &v1alpha1.IPAMBlockList{}
		if err := e.c.List(ctx, blocks); err != nil {
			return nil, nil, err
		}
		h := map[string]bool{}
		nodes := map[string]string{}
		for _, b := range blocks.Items {
			nodes[b.Name] = b.Spec.Node
			for _, al := range b.Spec.Allocations {
				h[al.ContainerID] = true
			}
		}
		return h, nodes, nil
	}
	// Within the grace period of "being-added", everything else stale goes.
	eventually(t, 30*time.Second, func() string {
		h, blocks, err := holders()
		if err != nil {
			return err.Error()
		}
		for name := range live {
			if !h["c-"+name] {
				t.Fatalf("allocation of live pod %s was freed", name)
			}
		}
		if !h["node:n1"] {
			t.Fatal("allocation of live node n1 was freed")
		}
		for _, gone := range []string{"c-ghost-0", "c-ghost-4", "node:gone-node", "c-old-live-0"} {
			if h[gone] {
				return fmt.Sprintf("%s still allocated", gone)
			}
		}
		for name, node := range blocks {
			if node == "gone-node" {
				return fmt.Sprintf("block %s of deleted node still there", name)
			}
		}
		return ""
	})
	if h, _, _ := holders(); !h["c-being-added"] {
		if since := time.Since(addedAt); since < gcGrace {
			t.Fatalf("an allocation %v old (grace %v) was freed", since, gcGrace)
		}
		t.Logf("machine too slow to check the grace period: the stale allocations took %v to go", time.Since(addedAt))
	}
	// Past its grace period, the pod that never appeared loses it.
	eventually(t, 30*time.Second, func() string {
		if h, _, err := holders(); err != nil || h["c-being-added"] {
			return fmt.Sprintf("c-being-added still allocated (%v)", err)
		}
		return ""
	})
	// A pod deleted later loses its address too; the others keep theirs.
	if err := e.c.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "live-1"}}, client.GracePeriodSeconds(0)); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() string {
		h, _, err := holders()
		if err != nil || h["c-live-1"] {
			return fmt.Sprintf("c-live-1 still allocated (%v)", err)
		}
		if !h["c-live-0"] || !h["c-live-2"] {
			t.Fatal("a live pod lost its address")
		}
		return ""
	})
	eventually(t, 30*time.Second, func() string {
		sn, err := getSubnet(e, "defaultnet")
		if err != nil {
			return err.Error()
		}
		if sn.Status.Used != 5 { // node:n1 + live-0,2,3,4
			return fmt.Sprintf("status used %d, want 5", sn.Status.Used)
		}
		return ""
	})
}

func nsOf(pod string) string {
	if pod == "" {
		return ""
	}
	return "ns"
}

// TestControllerClientRateLimits: the manager's clients use the configured
// limits (default 50 requests/s, burst 100), not client-go's default of 5/s
// that a kubeconfig or in-cluster config without limits gets — which held
// SubNet status writes back by seconds after a burst of pods.
func TestControllerClientRateLimits(t *testing.T) {
	e := setup(t)
	cfg := controllerConfig()
	cfg.Default()
	restCfg := rest.CopyConfig(e.cfg)
	restCfg.QPS, restCfg.Burst = 0, 0 // as BuildConfigFromFlags and InClusterConfig return it
	mgr, err := controller.NewManager(restCfg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := mgr.GetConfig(); got.QPS != 50 || got.Burst != 100 {
		t.Fatalf("manager client limits %v/%v, want 50/100", got.QPS, got.Burst)
	}
}
