package controller

import (
	"context"
	"errors"
	"sort"
	"strings"
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

// failingReader is an API server that cannot be reached.
type failingReader struct{}

func (failingReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("connection refused")
}
func (failingReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("connection refused")
}

// TestGCBlocksOfGoneSubnets: blocks left by a deleted SubNet (claimed by an
// agent during the deletion), or by a SubNet re-created under the same name
// with another CIDR, are deleted once no live pod uses them. The GC's cache
// is behind the API server (it does not know SubNet "fresh" yet), and with
// the API server unreachable nothing is deleted.
func TestGCBlocksOfGoneSubnets(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(10000, 0)
	old := metav1.NewTime(now.Add(-time.Hour))
	young := block("gone.young", "gone", "10.3.0.0/26", "n1", nil)
	young.CreationTimestamp = metav1.NewTime(now.Add(-5 * time.Second))
	live := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "live", UID: types.UID("u-live")}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	cached := []client.Object{
		subnet("net", "10.0.0.0/24"), node, live,
		block("net.ok", "net", "10.0.0.0/26", "n1", nil),
		block("net.old-cidr", "net", "10.9.0.0/26", "n1", map[string]v1alpha1.Allocation{
			"10.9.0.2": {ContainerID: "node-n1", Interface: "gw0", Node: "n1", Created: old}}),
		block("gone.empty", "gone", "10.2.0.0/26", "n1", nil),
		block("gone.used", "gone", "10.2.0.64/26", "n1", map[string]v1alpha1.Allocation{
			"10.2.0.66": {Namespace: "ns", Pod: "live", PodUID: "u-live", ContainerID: "c1", Node: "n1", Created: old}}),
		block("gone.dead-pod", "gone", "10.2.0.128/26", "n1", map[string]v1alpha1.Allocation{
			"10.2.0.130": {Namespace: "ns", Pod: "dead", PodUID: "u-dead", ContainerID: "c2", Node: "n1", Created: old}}),
		block("fresh.new", "fresh", "10.4.0.0/26", "n1", nil),
		young,
	}
	api := []client.Object{subnet("net", "10.0.0.0/24"), subnet("fresh", "10.4.0.0/24"), node.DeepCopy(), live.DeepCopy()}
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		api     client.Reader
		wantErr bool
		left    []string
	}{
		{"API reachable", fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(api...).Build(), false,
			[]string{"fresh.new", "gone.used", "gone.young", "net.ok"}},
		{"API unreachable: nothing deleted", failingReader{}, true,
			[]string{"fresh.new", "gone.dead-pod", "gone.empty", "gone.used", "gone.young", "net.ok", "net.old-cidr"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := make([]client.Object, len(cached))
			for i, o := range cached {
				objs[i] = o.DeepCopyObject().(client.Object)
			}
			c := fake.NewClientBuilder().WithScheme(s).WithIndex(&v1alpha1.IPAMBlock{}, ipam.BlockSubnetField, ipam.BlockSubnet).WithObjects(objs...).Build()
			g := &GarbageCollector{Client: c, APIReader: tc.api, IPAM: ipam.New(c, ipam.Options{}), Grace: 30 * time.Second,
				Now: func() time.Time { return now }}
			_, err := g.RunOnce(ctx)
			if (err != nil) != tc.wantErr {
				t.Fatalf("RunOnce: %v, want error %v", err, tc.wantErr)
			}
			blocks := &v1alpha1.IPAMBlockList{}
			if err := c.List(ctx, blocks); err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, b := range blocks.Items {
				left = append(left, b.Name)
			}
			sort.Strings(left)
			if strings.Join(left, " ") != strings.Join(tc.left, " ") {
				t.Errorf("blocks left %v, want %v", left, tc.left)
			}
		})
	}
}
