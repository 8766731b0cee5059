package agent

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// The agent's collaborators, narrowed to what it uses, so the CNI path and
// the node sync can be unit-tested with fakes and wired to the real OVSDB
// client, IPAM and netlink plumbing in agent.go.

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

// PodPort is a pod's port on br-int as recorded in OVSDB.
type PodPort struct {
	Name   string
	OFPort uint32
	// ExternalIDs carry the pod's identity and addresses (ExternalID* keys).
	ExternalIDs map[string]string
}

// Ports manages pod ports on br-int (pkg/ovs/ovsdb).
type Ports interface {
	// EnsurePodPort adds or updates the port and waits for its ofport.
	EnsurePodPort(ctx context.Context, name string, externalIDs map[string]string) (uint32, error)
	// DeletePort removes the port; absent is success.
	DeletePort(ctx context.Context, name string) error
	// ListPodPorts returns the ports kubefay created for pods.
	ListPodPorts(ctx context.Context) ([]PodPort, error)
}

// External IDs kubefay puts on a pod's OVS port, so that the agent can
// rebuild its state from OVS after a restart and a user can see in
// `ovs-vsctl list interface` which pod a port belongs to.
const (
	ExternalIDOwner       = "kubefay-owner" // "pod"
	ExternalIDNamespace   = "kubefay-pod-namespace"
	ExternalIDPod         = "kubefay-pod-name"
	ExternalIDPodUID      = "kubefay-pod-uid"
	ExternalIDContainerID = "kubefay-container-id"
	ExternalIDInterface   = "kubefay-interface"
	ExternalIDIP          = "kubefay-ip"
	ExternalIDMAC         = "kubefay-mac"
	ExternalIDSubnet      = "kubefay-subnet"
	ExternalIDGateway     = "kubefay-gateway"
)
