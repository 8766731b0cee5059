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
