package controlplane

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// TestSubnetBlocksSelectable: one SubNet's IPAMBlocks are listed by
// ipam.BlockSubnetField from the API server (a selectable field of the
// CRD) and from an indexed informer cache, and nothing of another SubNet
// comes with them.
func TestSubnetBlocksSelectable(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	for _, sn := range []struct{ name, cidr string }{{"left", "10.1.0.0/16"}, {"right", "10.2.0.0/16"}} {
		e.create(t, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: sn.name}, Spec: v1alpha1.SubNetSpec{CIDR: sn.cidr}})
	}
	alloc := ipam.New(e.c, ipam.Options{})
	for i, node := range []string{"n1", "n2", "n3"} {
		for _, sn := range []string{"left", "right"} {
			if _, err := alloc.Allocate(ctx, ipam.Request{Subnet: sn, Node: node, Namespace: "ns", Pod: fmt.Sprint(sn, i), ContainerID: sn + node}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ca := e.startCache(t)
	for _, tt := range []struct {
		name   string
		reader client.Reader
	}{{"API server", e.c}, {"informer cache", ca}} {
		t.Run(tt.name, func(t *testing.T) {
			eventually(t, 30*time.Second, func() string {
				blocks, err := ipam.ListSubnetBlocks(ctx, tt.reader, "left")
				if err != nil {
					return err.Error()
				}
				var got []string
				for _, b := range blocks {
					got = append(got, b.Spec.Subnet+"@"+b.Spec.Node)
				}
				sort.Strings(got)
				if want := "left@n1 left@n2 left@n3"; strings.Join(got, " ") != want {
					return fmt.Sprintf("blocks of subnet left: got %v, want %s", got, want)
				}
				return ""
			})
		})
	}
}
