// Package pipeline declares kubefay's OpenFlow pipeline on br-int and
// computes, as pure functions of the node's state, every flow the bridge
// should hold. This file declares the tables and their order; each
// feature's flows, and the gotos between tables, live in their own file
// (classifier.go, arp.go, ...).
package pipeline

// Table is an OpenFlow table of the pipeline.
type Table struct {
	// ID is the OpenFlow table number.
	ID uint8
	// Name is the table's name in logs, the CLI and the README.
	Name string
	// Job says in one line what the table decides.
	Job string
}

// The pipeline, in the order a packet walks it. Gaps between numbers leave
// room for stages to come without renumbering.
var (
	Classifier      = Table{0, "Classifier", "source kind (tunnel, gateway, pod) and spoof guards: tunnel packets only from known nodes (tun_src), a pod only from its own MAC and IP"}
	ARPResponder    = Table{10, "ARPResponder", "answer ARP in OVS: gateways -> gw0 MAC, local pods -> their MAC, other subnet addresses -> router MAC"}
	Conntrack       = Table{20, "Conntrack", "send IP through conntrack in kubefay's zone"}
	ConntrackState  = Table{21, "ConntrackState", "drop invalid; replies of connections that entered from gw0 return to gw0"}
	EgressRules     = Table{30, "EgressRules", "NetworkPolicy egress of local pods: established passes, new connections need an allowing rule once a pod is isolated"}
	L3Forwarding    = Table{40, "L3Forwarding", "packets to the router MAC: local pod -> rewrite MACs; remote block -> tunnel to its node"}
	L2Forwarding    = Table{50, "L2Forwarding", "destination MAC -> output port (reg1)"}
	SubnetIsolation = Table{55, "SubnetIsolation", "private subnets: new connections only from the subnet itself, allowSubnets and the node"}
	IngressRules    = Table{60, "IngressRules", "NetworkPolicy ingress of local pods: established and the node pass, new connections need an allowing rule once a pod is isolated"}
	ConntrackCommit = Table{70, "ConntrackCommit", "commit new connections; mark those that entered from gw0"}
	Output          = Table{80, "Output", "output to the port in reg1"}
)

// Tables lists the pipeline in packet order.
var Tables = []Table{Classifier, ARPResponder, Conntrack, ConntrackState, EgressRules,
	L3Forwarding, L2Forwarding, SubnetIsolation, IngressRules, ConntrackCommit, Output}

// TableByID returns the table with the given number.
func TableByID(id uint8) (Table, bool) {
	for _, t := range Tables {
		if t.ID == id {
			return t, true
		}
	}
	return Table{}, false
}
