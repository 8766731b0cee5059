package agent

import (
	"context"

	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

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
	// RecordPodPort sets the external IDs of an existing port and returns
	// once that is committed (ovs-vswitchd has nothing to do for them).
	RecordPodPort(ctx context.Context, name string, externalIDs map[string]string) error
	// DeletePort removes the port and returns once the removal is
	// committed (absent is success); applied waits for ovs-vswitchd to let
	// go of the port's device.
	DeletePort(ctx context.Context, name string) (applied func(context.Context) error, err error)
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

// ovsPorts implements Ports on br-int through OVSDB.
type ovsPorts struct {
	vs     *ovsdb.VSwitch
	bridge string
}

// NewOVSPorts returns the Ports of bridge, managed through vs.
func NewOVSPorts(vs *ovsdb.VSwitch, bridge string) Ports { return ovsPorts{vs: vs, bridge: bridge} }

// EnsurePodPort adds the pod's port (or updates its external IDs) and
// waits for ovs-vswitchd to give it an ofport.
func (p ovsPorts) EnsurePodPort(ctx context.Context, name string, ids map[string]string) (uint32, error) {
	if err := p.vs.EnsurePort(ctx, p.bridge, ovsdb.PortSpec{Name: name, ExternalIDs: ids}); err != nil {
		return 0, err
	}
	n, err := p.vs.WaitOFPort(ctx, name)
	if err != nil {
		return 0, err
	}
	return uint32(n), nil
}

// RecordPodPort sets the port's external IDs; committed is enough.
func (p ovsPorts) RecordPodPort(ctx context.Context, name string, ids map[string]string) error {
	_, err := p.vs.EnsurePortCommitted(ctx, p.bridge, ovsdb.PortSpec{Name: name, ExternalIDs: ids})
	return err
}

// DeletePort removes a port; absent is success.
func (p ovsPorts) DeletePort(ctx context.Context, name string) (func(context.Context) error, error) {
	applied, err := p.vs.DeletePortCommitted(ctx, p.bridge, name)
	return applied, err
}

// ListPodPorts returns the ports kubefay created for pods.
func (p ovsPorts) ListPodPorts(ctx context.Context) ([]PodPort, error) {
	all, err := p.vs.ListPorts(ctx, p.bridge)
	if err != nil {
		return nil, err
	}
	var out []PodPort
	for _, pi := range all {
		if pi.ExternalIDs[ExternalIDOwner] != "pod" || len(pi.Interfaces) != 1 {
			continue
		}
		pp := PodPort{Name: pi.Name, ExternalIDs: pi.ExternalIDs}
		if n := pi.Interfaces[0].OFPort; n > 0 {
			pp.OFPort = uint32(n)
		}
		out = append(out, pp)
	}
	return out, nil
}
