package agent

import (
	"context"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// bridgeSwitch is flowsync's view of br-int over our OpenFlow connection:
// the installed kubefay flows (cookie magic) and atomic bundles.
type bridgeSwitch struct{ conn *of.Conn }

// NewBridgeSwitch returns the flowsync.Switch of the bridge behind conn.
func NewBridgeSwitch(conn *of.Conn) flowsync.Switch[*of.Flow] { return bridgeSwitch{conn: conn} }

// Installed dumps every flow whose cookie says kubefay installed it.
func (s bridgeSwitch) Installed(ctx context.Context) ([]*of.Flow, error) {
	return s.conn.DumpFlows(ctx, &of.FlowFilter{Table: of.TableAll,
		Cookie: pipeline.CookieMagic, CookieMask: pipeline.CookieMagicMask})
}

// Apply sends adds, strict modifies and strict deletes in one atomic bundle.
func (s bridgeSwitch) Apply(ctx context.Context, add, modify, del []*of.Flow) error {
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
