package agent

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// portsOf is a Ports listing pod ports of the given container IDs.
type portsOf struct {
	nullPorts
	ids []string
}

func (p portsOf) ListPodPorts(context.Context) ([]PodPort, error) {
	var out []PodPort
	for _, id := range p.ids {
		out = append(out, PodPort{Name: podif.HostIfName(id, "eth0"), ExternalIDs: map[string]string{ExternalIDContainerID: id}})
	}
	return out, nil
}

// TestUnwiredAddressesAreFreed: at start, the agent frees exactly the
// addresses of its node's pods allocated before the start whose container
// has neither an OVS port nor a host veth.
func TestUnwiredAddressesAreFreed(t *testing.T) {
	started := time.Date(2026, 12, 7, 10, 0, 0, 700e6, time.UTC)
	old, sameSecond := metav1.NewTime(started.Add(-time.Hour)), metav1.NewTime(started.Truncate(time.Second))
	pod := func(id string, created metav1.Time) v1alpha1.Allocation {
		return v1alpha1.Allocation{Namespace: "ns", Pod: "p-" + id, ContainerID: id, Interface: "eth0", Created: created}
	}
	here := &v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: "here"}, Spec: v1alpha1.IPAMBlockSpec{Node: "n1", Allocations: map[string]v1alpha1.Allocation{
		"10.0.0.1": {Node: "n1", Created: old},                                                          // the node's own address
		"10.0.0.2": pod("wired", old),                                                                   // has a port
		"10.0.0.3": pod("veth-only", old),                                                               // a veth, no port (ADD cut short after the pair)
		"10.0.0.4": pod("crashed", old),                                                                 // nothing: freed
		"10.0.0.5": pod("young", sameSecond),                                                            // allocated in the start's second: maybe by this agent
		"10.0.0.6": pod("no-created", metav1.Time{}),                                                    // written before Created existed: old
		"10.0.0.7": {Namespace: "ns", Pod: "other", ContainerID: "elsewhere", Node: "n2", Created: old}, // static, of node n2
	}}}
	there := &v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: "there"}, Spec: v1alpha1.IPAMBlockSpec{Node: "n2", Allocations: map[string]v1alpha1.Allocation{
		"10.0.1.1": pod("n2-pod", old),                                                                     // node n2's
		"10.0.1.2": {Namespace: "ns", Pod: "static", ContainerID: "static-here", Node: "n1", Created: old}, // static of n1: freed
	}}}
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	freed := map[string][]string{}
	u := &unwiredAddresses{
		node: "n1", started: started, ports: portsOf{ids: []string{"wired"}},
		blocks:   fake.NewClientBuilder().WithScheme(s).WithObjects(here, there).Build(),
		hostLink: func(name string) (bool, error) { return name == podif.HostIfName("veth-only", "eth0"), nil },
		release: func(_ context.Context, b *v1alpha1.IPAMBlock, match func(string, v1alpha1.Allocation) bool) ([]string, error) {
			for ip, al := range b.Spec.Allocations {
				if match(ip, al) {
					freed[b.Name] = append(freed[b.Name], ip)
				}
			}
			slices.Sort(freed[b.Name])
			return freed[b.Name], nil
		},
	}
	n, err := u.free(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"here": {"10.0.0.4", "10.0.0.6"}, "there": {"10.0.1.2"}}
	if n != 3 || !maps.EqualFunc(freed, want, slices.Equal) {
		t.Fatalf("freed %d: %v, want %v", n, freed, want)
	}
}
