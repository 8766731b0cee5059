package trace

import (
	"net/netip"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

// Outcome is where a traced packet ends.
type Outcome string

// Outcomes of a trace.
const (
	// Delivered: output to a local port other than tun0 and gw0 (a pod).
	Delivered Outcome = "delivered"
	// Tunneled: output to tun0, towards Verdict.TunnelDst.
	Tunneled Outcome = "tunnel"
	// ToHost: output to gw0, the node's own network stack.
	ToHost Outcome = "host"
	// Dropped: no output; Verdict.Step is the flow that ended the packet.
	Dropped Outcome = "dropped"
)

// Verdict is the end of a trace.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	// Port is the output port (Delivered, Tunneled, ToHost).
	Port uint32 `json:"port,omitempty"`
	// TunnelDst is the outer destination of a Tunneled packet.
	TunnelDst netip.Addr `json:"tunnelDst,omitzero"`
	// Step is the last flow the packet hit: for Dropped, the one that
	// dropped it (a Miss when no flow matched).
	Step *Step `json:"step,omitempty"`
}

// Verdict decides where the packet ends: the last port its final pass
// outputs to, or, without output, dropped at the last flow it hit.
func (t *Trace) Verdict() Verdict {
	last := t.Last()
	var step *Step
	if n := len(last.Steps); n > 0 {
		step = &last.Steps[n-1]
	}
	outs := last.Outputs()
	if len(outs) == 0 {
		return Verdict{Outcome: Dropped, Step: step}
	}
	v := Verdict{Port: outs[len(outs)-1], Step: step}
	switch v.Port {
	case pipeline.TunnelOFPort:
		v.Outcome, v.TunnelDst = Tunneled, last.TunnelDst()
	case pipeline.GatewayOFPort:
		v.Outcome = ToHost
	default:
		v.Outcome = Delivered
	}
	return v
}
