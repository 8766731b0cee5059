package agent

import (
	"context"
	"fmt"

	"github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

// EnsureBridge makes br-int (with the pipeline's table names), tun0 and gw0
// what the configuration says, in OVSDB (idempotent: nothing is sent when
// they already are), and waits for the fixed OpenFlow port numbers the
// pipeline relies on.
func EnsureBridge(ctx context.Context, vs *ovsdb.VSwitch, cfg *config.Agent, mtu int) error {
	if err := vs.EnsureBridge(ctx, ovsdb.BridgeSpec{
		Name:         cfg.Bridge,
		DatapathType: cfg.DatapathType,
		FailMode:     "secure",
		Protocols:    []string{"OpenFlow15"},
		ExternalIDs:  map[string]string{ExternalIDOwner: "kubefay"},
		FlowTables:   pipeline.TableNames(),
	}); err != nil {
		return fmt.Errorf("bridge %s: %w", cfg.Bridge, err)
	}
	ports := []struct {
		spec ovsdb.PortSpec
		want uint32
	}{
		{ovsdb.PortSpec{Name: cfg.TunnelPort, Type: cfg.TunnelType,
			Options:       map[string]string{"remote_ip": "flow", "key": "flow"},
			OFPortRequest: int(pipeline.TunnelOFPort), ExternalIDs: map[string]string{ExternalIDOwner: "tunnel"}},
			pipeline.TunnelOFPort},
		{ovsdb.PortSpec{Name: cfg.GatewayPort, Type: "internal", OFPortRequest: int(pipeline.GatewayOFPort),
			MTURequest: mtu, ExternalIDs: map[string]string{ExternalIDOwner: "gateway"}},
			pipeline.GatewayOFPort},
	}
	for _, p := range ports {
		if err := vs.EnsurePort(ctx, cfg.Bridge, p.spec); err != nil {
			return fmt.Errorf("port %s: %w", p.spec.Name, err)
		}
		got, err := vs.WaitOFPort(ctx, p.spec.Name)
		if err != nil {
			return fmt.Errorf("port %s: %w", p.spec.Name, err)
		}
		if uint32(got) != p.want {
			return fmt.Errorf("port %s has ofport %d, the pipeline needs %d: another port holds it "+
				"(ovs-vsctl --columns=name,ofport list interface)", p.spec.Name, got, p.want)
		}
	}
	return nil
}

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

// DeletePort removes a port; absent is success.
func (p ovsPorts) DeletePort(ctx context.Context, name string) error {
	return p.vs.DeletePort(ctx, p.bridge, name)
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
