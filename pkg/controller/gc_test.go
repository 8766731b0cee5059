package controller

import (
	"context"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

func TestGarbageCollector(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(10000, 0)
	old := metav1.NewTime(now.Add(-time.Hour))
	young := metav1.NewTime(now.Add(-5 * time.Second))
	pod := func(ns, name, uid string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}}
	}
	node := func(name string) *corev1.Node { return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	objs := []client.Object{
		subnet("net", "10.0.0.0/24"),
		node("n1"),
		pod("ns", "live", "u-live"), pod("ns", "recreated", "u-new"), pod("ns", "nouid", "u-x"),
		block("net.live-node", "net", "10.0.0.0/26", "n1", map[string]v1alpha1.Allocation{
			"10.0.0.2": {Namespace: "ns", Pod: "live", PodUID: "u-live", ContainerID: "c1", Node: "n1", Created: old},
			"10.0.0.3": {Namespace: "ns", Pod: "gone", PodUID: "u-gone", ContainerID: "c2", Node: "n1", Created: old},
			"10.0.0.4": {Namespace: "ns", Pod: "gone-young", ContainerID: "c3", Node: "n1", Created: young},
			"10.0.0.5": {Namespace: "ns", Pod: "recreated", PodUID: "u-old", ContainerID: "c4", Node: "n1", Created: old},
			"10.0.0.6": {Namespace: "ns", Pod: "nouid", ContainerID: "c5", Node: "n1", Created: old},
			"10.0.0.7": {ContainerID: "node:n1", Interface: "gw0", Node: "n1", Created: old},
			"10.0.0.8": {ContainerID: "node:n9", Interface: "gw0", Node: "n9", Created: old},
			"10.0.0.9": {ContainerID: "mystery", Created: old},
		}),
		block("net.dead-node-empty", "net", "10.0.0.64/26", "n9", nil),
		block("net.dead-node-used", "net", "10.0.0.128/26", "n9", map[string]v1alpha1.Allocation{
			"10.0.0.130": {Namespace: "ns", Pod: "live", PodUID: "u-live", ContainerID: "c6", Node: "n1", Created: old},
		}),
		block("net.live-node-empty", "net", "10.0.0.192/26", "n1", nil),
	}
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(objs...).Build()
	g := &GarbageCollector{Client: c, APIReader: c, IPAM: ipam.New(c, ipam.Options{}), Grace: 30 * time.Second, Now: func() time.Time { return now }}
	st, err := g.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Released != 3 || st.Deleted != 1 {
		t.Errorf("stats %+v, want 3 released (gone, recreated, node n9) and 1 deleted", st)
	}
	blocks := &v1alpha1.IPAMBlockList{}
	if err := c.List(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	left := map[string][]string{}
	for _, b := range blocks.Items {
		left[b.Name] = []string{}
		for ip := range b.Spec.Allocations {
			left[b.Name] = append(left[b.Name], ip)
		}
		sort.Strings(left[b.Name])
	}
	want := map[string][]string{
		"net.live-node":       {"10.0.0.2", "10.0.0.4", "10.0.0.6", "10.0.0.7", "10.0.0.9"},
		"net.dead-node-used":  {"10.0.0.130"},
		"net.live-node-empty": {},
	}
	if len(left) != len(want) {
		t.Fatalf("blocks left %v, want %v", left, want)
	}
	for name, ips := range want {
		if got := left[name]; len(got) != len(ips) || (len(ips) > 0 && !equalStrings(got, ips)) {
			t.Errorf("block %s keeps %v, want %v", name, got, ips)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
