package agent

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubefay/kubefay/pkg/ipam"
)

// The CNI handler's view of a pod interface and of IPAM (pkg/ipam through
// ipamAdapter; faked in tests).

// PodRef identifies one interface of one pod.
type PodRef struct {
	Namespace, Name, UID string
	ContainerID          string
	Interface            string
	// Subnet is the SubNet the pod's namespace is on ("" = the default).
	Subnet string
	// StaticIP is the address the pod asked for with its IPv4 annotation.
	StaticIP netip.Addr
	// Pool lists the addresses the pod may get (its ip-pool annotation;
	// for a StatefulSet pod, the one entry of its ordinal).
	Pool []netip.Addr
	// Labels and Ports (container ports) of the pod, for NetworkPolicy:
	// the pod is known to policy from its CNI ADD on, before any status
	// update carries its IP.
	Labels map[string]string
	Ports  []corev1.ContainerPort
}

// Allocation is the address IPAM gave a pod interface.
type Allocation struct {
	// IP is the address with its subnet's prefix length.
	IP netip.Prefix
	// Gateway is the subnet's gateway.
	Gateway netip.Addr
	// Subnet is the SubNet's name.
	Subnet string
}

// Allocator hands out and takes back pod addresses (pkg/ipam).
type Allocator interface {
	// Allocate is idempotent per ContainerID+Interface.
	Allocate(ctx context.Context, pod PodRef) (Allocation, error)
	// Release frees the address of ContainerID+Interface; unknown is success.
	Release(ctx context.Context, containerID, iface string) error
}

// ipamAdapter narrows pkg/ipam to the CNI handler's Allocator.
type ipamAdapter struct {
	a    *ipam.Allocator
	node string
}

func (i ipamAdapter) Allocate(ctx context.Context, pod PodRef) (Allocation, error) {
	req := ipam.Request{Node: i.node, Namespace: pod.Namespace, Pod: pod.Name, PodUID: pod.UID,
		ContainerID: pod.ContainerID, Interface: pod.Interface, Subnet: pod.Subnet}
	if pod.StaticIP.IsValid() {
		req.StaticIP = pod.StaticIP
	}
	req.Pool = pod.Pool
	r, err := i.a.Allocate(ctx, req)
	if err != nil {
		return Allocation{}, err
	}
	return Allocation{IP: r.Prefix, Gateway: r.Gateway, Subnet: r.Subnet}, nil
}

func (i ipamAdapter) Release(ctx context.Context, containerID, iface string) error {
	return i.a.Release(ctx, containerID, iface)
}
