package pipeline

import (
	"strconv"
	"strings"
)

// Priorities of the pipeline's flows, by table. Each name says what the
// flows at that priority decide; flows of different purposes may share a
// value when their matches never overlap (different in_port, /32 targets).
// TestPriorityDeclaration checks that every flow uses one declared for its
// table (tablePriorities).
const (
	// MissPriority: a table's miss (MissFlows).
	MissPriority uint16 = 0

	// Classifier: where the packet came from.
	ClassifyGatewayPriority     uint16 = 200 // from gw0: recorded in reg0
	ClassifyKnownNodePriority   uint16 = 200 // from tun0, outer source a known node
	ClassifyPodPriority         uint16 = 190 // from a pod, with its own MAC and IP
	UnknownTunnelSourcePriority uint16 = 100 // from tun0, anyone else: drop

	// ARPResponder: who answers an ARP request.
	ARPNodeAddressPriority uint16 = 200 // the node's address: gw0's MAC
	ARPGatewayPriority     uint16 = 200 // a subnet's gateway: the router MAC
	ARPLocalPodPriority    uint16 = 190 // a local pod: its MAC
	ARPSubnetPriority      uint16 = 100 // any other subnet address: the router MAC

	// Conntrack: every IP packet is tracked.
	ConntrackIPPriority uint16 = 200

	// ConntrackState: what conntrack's verdict decides.
	CTInvalidPriority          uint16 = 210 // invalid: drop
	CTReplyFromGatewayPriority uint16 = 205 // a reply coming from gw0 stays in OVS
	CTReplyToGatewayPriority   uint16 = 200 // a reply of a connection from gw0 goes back to gw0
	OldGatewayMACPriority      uint16 = 10  // sent to gw0's MAC: routed like to the router MAC

	// L3Forwarding: where a routed packet goes.
	RouteLocalPriority         uint16 = 200 // a local pod or the node's own address
	RouteRemoteAddressPriority uint16 = 195 // a single address away from its block's owner
	RouteRemoteBlockPriority   uint16 = 190 // another node's block: into the tunnel
	LimitedBroadcastPriority   uint16 = 20  // 255.255.255.255: never routed
	RouteToHostPriority        uint16 = 10  // anything else: the host, through gw0

	// L2Forwarding: the port of a destination MAC.
	SwitchPriority uint16 = 200

	// SubnetIsolation: new connections into a private subnet.
	IsolationAllowPriority uint16 = 110 // not new, or from an allowed source
	IsolationDropPriority  uint16 = 100 // anything else into the subnet: drop

	// EgressRules and IngressRules (NetworkPolicy). Policy rules only
	// allow, so every allow shares one priority; what no rule allows falls
	// to a per-pod drop, and pods no policy selects fall to the table miss.

	// PolicyPassPriority: established/related packets, traffic to services
	// (checked after kube-proxy's DNAT) and the node's own probes.
	PolicyPassPriority uint16 = 210
	// PolicyRulePriority: conjunction clauses and conj_id flows of rules.
	PolicyRulePriority uint16 = 200
	// PolicyRuleDirectPriority: rules with one dimension only (e.g. "allow
	// everything to these pods"), plain flows without conjunction.
	PolicyRuleDirectPriority uint16 = 190
	// PolicyDefaultDenyPriority: the drop of an isolated pod.
	PolicyDefaultDenyPriority uint16 = 100

	// ConntrackCommit: how a new connection is committed.
	CommitFromGatewayPriority uint16 = 200 // from gw0: with ct_mark
	CommitPriority            uint16 = 190 // any other
)

// Priority is a named priority of a table's flows.
type Priority struct {
	Value uint16
	// What the flows at this priority decide, in a few words (README).
	What string
}

var policyPriorities = []Priority{{PolicyPassPriority, "pass"}, {PolicyRulePriority, "rule (conjunction)"},
	{PolicyRuleDirectPriority, "rule (one dimension)"}, {PolicyDefaultDenyPriority, "isolated pod: drop"}}

// tablePriorities are each table's priorities, highest first (the miss,
// priority 0, is every table's and left out).
var tablePriorities = map[uint8][]Priority{
	Classifier.ID: {{ClassifyGatewayPriority, "from gw0"}, {ClassifyKnownNodePriority, "from a known node"},
		{ClassifyPodPriority, "from a pod (spoof guard)"}, {UnknownTunnelSourcePriority, "unknown tunnel source: drop"}},
	ARPResponder.ID: {{ARPNodeAddressPriority, "node address"}, {ARPGatewayPriority, "gateway"},
		{ARPLocalPodPriority, "local pod"}, {ARPSubnetPriority, "other subnet address"}},
	Conntrack.ID: {{ConntrackIPPriority, "IP"}},
	ConntrackState.ID: {{CTInvalidPriority, "invalid: drop"}, {CTReplyFromGatewayPriority, "reply from gw0"},
		{CTReplyToGatewayPriority, "reply to gw0"}, {OldGatewayMACPriority, "old gateway MAC"}},
	EgressRules.ID: policyPriorities,
	L3Forwarding.ID: {{RouteLocalPriority, "local"}, {RouteRemoteAddressPriority, "remote address"},
		{RouteRemoteBlockPriority, "remote block"}, {LimitedBroadcastPriority, "limited broadcast: drop"},
		{RouteToHostPriority, "host"}},
	L2Forwarding.ID:    {{SwitchPriority, "MAC"}},
	SubnetIsolation.ID: {{IsolationAllowPriority, "allowed"}, {IsolationDropPriority, "drop"}},
	IngressRules.ID:    policyPriorities,
	ConntrackCommit.ID: {{CommitFromGatewayPriority, "from gw0"}, {CommitPriority, "other"}},
}

// Priorities returns the table's priorities, highest first, without its
// miss (priority 0).
func (t Table) Priorities() []Priority { return tablePriorities[t.ID] }

// PrioritiesText lists the table's priorities for the README ("200 from
// gw0 · 190 from a pod"), "—" for a table with its miss only.
func (t Table) PrioritiesText() string {
	ps := t.Priorities()
	if len(ps) == 0 {
		return "—"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.Itoa(int(p.Value)) + " " + p.What
	}
	return strings.Join(parts, " · ")
}
