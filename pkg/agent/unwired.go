package agent

import (
	"context"
	"errors"
	"time"

	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// unwiredAddresses frees this node's pod addresses that no interface uses:
// their container has neither an OVS port nor a host veth. Only a crash
// leaves such an address: an ADD cut short before it made the pair, or a
// DEL answered whose release (after the answer) was cut short. It runs at
// start, before the agent takes CNI requests, and looks only at addresses
// allocated before started: no ADD of this agent can be using them, and an
// ADD the runtime retries allocates again.
type unwiredAddresses struct {
	node    string
	started time.Time
	ports   Ports
	blocks  client.Reader
	// hostLink reports whether the host end of a pod interface exists.
	hostLink func(name string) (bool, error)
	// release frees what match selects in block b (ipam.Allocator.ReleaseIn).
	release func(ctx context.Context, b *v1alpha1.IPAMBlock, match func(ip string, al v1alpha1.Allocation) bool) ([]string, error)
}

// free releases the unwired addresses and returns how many it freed.
func (u *unwiredAddresses) free(ctx context.Context) (int, error) {
	ports, err := u.ports.ListPodPorts(ctx)
	if err != nil {
		return 0, err
	}
	wired := map[string]bool{} // container IDs with a port
	for _, p := range ports {
		wired[p.ExternalIDs[ExternalIDContainerID]] = true
	}
	var list v1alpha1.IPAMBlockList
	if err := u.blocks.List(ctx, &list); err != nil {
		return 0, err
	}
	// Created has a precision of seconds: an address whose Created is
	// before the start's second was allocated before the start.
	before := u.started.Truncate(time.Second)
	freed := 0
	var errs []error
	for i := range list.Items {
		b := &list.Items[i]
		unwired := map[string]string{} // ip -> container ID
		for ip, al := range b.Spec.Allocations {
			node := al.Node
			if node == "" {
				node = b.Spec.Node
			}
			if node != u.node || al.Pod == "" || al.ContainerID == "" || wired[al.ContainerID] || !al.Created.Time.Before(before) {
				continue
			}
			iface := al.Interface
			if iface == "" {
				iface = podif.DefaultIfName
			}
			if exists, err := u.hostLink(podif.HostIfName(al.ContainerID, iface)); exists || err != nil {
				continue // in use, or not known to be unused
			}
			unwired[ip] = al.ContainerID
		}
		if len(unwired) == 0 {
			continue
		}
		ips, err := u.release(ctx, b, func(ip string, al v1alpha1.Allocation) bool {
			id, ok := unwired[ip]
			return ok && id == al.ContainerID
		})
		if err != nil {
			errs = append(errs, err)
		}
		for _, ip := range ips {
			klog.InfoS("freed the address of a container without an interface on this node (left by a crash)", "ip", ip,
				"container", unwired[ip], "block", b.Name)
		}
		freed += len(ips)
	}
	return freed, errors.Join(errs...)
}
