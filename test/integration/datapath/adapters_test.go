package datapath

import (
	"context"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

// ofSwitch is flowsync's view of br-int over an OpenFlow connection: the
// flows carrying kubefay's cookie magic, and atomic bundles.
type ofSwitch struct{ conn *of.Conn }

func (s ofSwitch) Installed(ctx context.Context) ([]*of.Flow, error) {
	return s.conn.DumpFlows(ctx, &of.FlowFilter{Table: of.TableAll,
		Cookie: pipeline.CookieMagic, CookieMask: pipeline.CookieMagicMask})
}

func (s ofSwitch) Apply(ctx context.Context, add, modify, del []*of.Flow) error {
	b := s.conn.NewBundle()
	for _, f := range del {
		b.Add(of.DeleteFlowStrict(f))
	}
	for _, f := range modify {
		b.Add(of.ModifyFlowStrict(f))
	}
	for _, f := range add {
		b.Add(of.AddFlow(f))
	}
	if b.Len() == 0 {
		return nil
	}
	return b.Commit(ctx)
}

// vsPorts implements agent.Ports on one bridge through the OVSDB layer.
type vsPorts struct {
	vs     *ovsdb.VSwitch
	bridge string
}

func (p vsPorts) EnsurePodPort(ctx context.Context, name string, ids map[string]string) (uint32, error) {
	if err := p.vs.EnsurePort(ctx, p.bridge, ovsdb.PortSpec{Name: name, ExternalIDs: ids}); err != nil {
		return 0, err
	}
	n, err := p.vs.WaitOFPort(ctx, name)
	if err != nil {
		return 0, err
	}
	return uint32(n), nil
}

func (p vsPorts) DeletePort(ctx context.Context, name string) error {
	return p.vs.DeletePort(ctx, p.bridge, name)
}

func (p vsPorts) ListPodPorts(ctx context.Context) ([]agent.PodPort, error) {
	all, err := p.vs.ListPorts(ctx, p.bridge)
	if err != nil {
		return nil, err
	}
	var out []agent.PodPort
	for _, pi := range all {
		if pi.ExternalIDs[agent.ExternalIDOwner] != "pod" || len(pi.Interfaces) != 1 {
			continue
		}
		pp := agent.PodPort{Name: pi.Name, ExternalIDs: pi.ExternalIDs}
		if n := pi.Interfaces[0].OFPort; n > 0 {
			pp.OFPort = uint32(n)
		}
		out = append(out, pp)
	}
	return out, nil
}
