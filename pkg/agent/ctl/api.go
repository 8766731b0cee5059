package ctl

import (
	"net/netip"
	"time"

	"github.com/kubefay/kubefay/pkg/agent/trace"
)

// Paths of the API.
const (
	PathStatus = "/status"
	PathFlows  = "/flows"
	PathTrace  = "/trace"
)

// SocketName is the socket's file name, in the directory of the CNI socket.
const SocketName = "agent.sock"

// DefaultSocket is where the agent listens with the chart's configuration.
const DefaultSocket = "/var/run/kubefay/" + SocketName

// Status is the state of one node's agent.
type Status struct {
	Node    string `json:"node"`
	Version string `json:"version"`
	// OVSConnected: the OpenFlow session to ovs-vswitchd is up.
	OVSConnected bool `json:"ovsConnected"`
	// Ready and NotReadyReason are the agent's readiness.
	Ready          bool   `json:"ready"`
	NotReadyReason string `json:"notReadyReason,omitempty"`
	// LastSync is when the node's state was last applied successfully.
	LastSync time.Time `json:"lastSync,omitzero"`
	// Pods is the number of pod ports on the bridge.
	Pods int `json:"pods"`
	// Tables counts the installed kubefay flows per table, in pipeline order.
	Tables []TableFlows `json:"tables"`
	// DesiredFlows is how many flows the agent wants installed.
	DesiredFlows int `json:"desiredFlows"`
}

// TableFlows is the flow count of one table.
type TableFlows struct {
	Table uint8  `json:"table"`
	Name  string `json:"name"`
	Flows int    `json:"flows"`
}

// FlowsRequest selects installed flows.
type FlowsRequest struct {
	// Pod (namespace/name) keeps the flows of that local pod: its own
	// flows and every flow matching its address.
	Pod string `json:"pod,omitempty"`
	// Table keeps one table, by name (e.g. IngressRules) or number.
	Table string `json:"table,omitempty"`
}

// Flow is one installed flow with its owner and counters.
type Flow struct {
	Table     uint8  `json:"table"`
	TableName string `json:"tableName"`
	Priority  uint16 `json:"priority"`
	Cookie    uint64 `json:"cookie"`
	// Owner says who installed it (pod, subnet, tunnel, NetworkPolicy, ...).
	Owner string `json:"owner"`
	// Text is the flow in ovs-ofctl syntax.
	Text    string `json:"text"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// FlowsResponse lists flows in table, priority (highest first) order.
type FlowsResponse struct {
	Node  string `json:"node"`
	Flows []Flow `json:"flows"`
}

// TraceRequest asks for one trace on the agent's bridge. Either FromPod
// names a local pod (the packet enters on its port with its MAC, and its IP
// unless SrcIP overrides it, as a spoofing pod would), or Packet is traced
// as given (the continuation of a cross-node trace entering from tun0).
type TraceRequest struct {
	FromPod string     `json:"fromPod,omitempty"`
	SrcIP   netip.Addr `json:"srcIP,omitzero"`
	SrcMAC  string     `json:"srcMAC,omitempty"`
	DstIP   netip.Addr `json:"dstIP,omitzero"`
	Proto   string     `json:"proto,omitempty"`
	DstPort uint16     `json:"dstPort,omitempty"`
	// Packet, when FromPod is empty, is traced as is.
	Packet *trace.Packet `json:"packet,omitempty"`
	// CTState is the conntrack state the packet has after conntrack (e.g.
	// "trk,est,rpl" for a reply); empty: a new connection.
	CTState string `json:"ctState,omitempty"`
}

// TraceResponse is one node's trace.
type TraceResponse struct {
	Node   string       `json:"node"`
	NodeIP netip.Addr   `json:"nodeIP"`
	Packet trace.Packet `json:"packet"`
	// Trace has every step with its owner filled in.
	Trace   *trace.Trace  `json:"trace"`
	Verdict trace.Verdict `json:"verdict"`
	// Summary is the verdict in words: "delivered to pod ns/name (port 4)",
	// "sent to node X through tun0", "to the host via gw0", or "dropped by
	// <owner> in table <name>".
	Summary string `json:"summary"`
	// TunnelNode names the node a Tunneled packet goes to.
	TunnelNode string `json:"tunnelNode,omitempty"`
	// Raw is ofproto/trace's own output.
	Raw string `json:"raw"`
}
