package agent

import (
	"context"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// ofFlowSwitch is flowsync's view of br-int over our OpenFlow connection:
// the installed kubefay flows (cookie magic) and atomic bundles.
type ofFlowSwitch struct{ conn *of.Conn }

// NewFlowSwitch returns the flowsync.Switch of the bridge behind conn.
func NewFlowSwitch(conn *of.Conn) flowsync.Switch[*of.Flow] { return ofFlowSwitch{conn: conn} }

// Installed dumps every flow whose cookie says kubefay installed it.
func (s ofFlowSwitch) Installed(ctx context.Context) ([]*of.Flow, error) {
	return s.conn.DumpFlows(ctx, &of.FlowFilter{Table: of.TableAll,
		Cookie: pipeline.CookieMagic, CookieMask: pipeline.CookieMagicMask})
}

// Apply sends adds, strict modifies and strict deletes in one atomic bundle.
func (s ofFlowSwitch) Apply(ctx context.Context, add, modify, del []*of.Flow) error {
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
