// Package pipeline declares kubefay's OpenFlow pipeline on br-int and
// computes, as pure functions of the node's state, every flow the bridge
// should hold. This file declares the tables, their order and their miss
// actions (miss.go turns them into flows; TestPipelineDeclaration checks
// that every goto goes forward to a declared table), priorities.go the
// priorities of their flows; each feature's flows live in their own file
// (base.go, pod.go, subnet.go, tunnel.go, policy.go).
package pipeline

import "strconv"

// Table is an OpenFlow table of the pipeline.
type Table struct {
	// ID is the OpenFlow table number.
	ID uint8
	// Name is the table's name in logs, the CLI and the README.
	Name string
	// Job says in one line what the table decides (the README's pipeline
	// table is generated from it: `make docs`).
	Job string
	// Miss is what happens to a packet no other flow of the table matches;
	// MissFlows installs it.
	Miss Miss
}

// MissText says in words what the table's miss does.
func (t Table) MissText() string {
	switch t.Miss.Kind {
	case MissNext:
		if n, ok := TableByID(t.Miss.Next); ok {
			return "→ " + n.Name
		}
		return "→ table " + strconv.Itoa(int(t.Miss.Next))
	case MissOutput:
		return "output to reg1"
	}
	return "drop"
}

// Miss is a table's miss action: drop, continue in a later table, or (the
// Output table) output to the port in OutputField.
type Miss struct {
	Kind MissKind
	Next uint8 // the table a MissNext continues in
}

// MissKind is the kind of a table's miss action.
type MissKind uint8

// Kinds of miss actions.
const (
	MissDrop MissKind = iota
	MissNext
	MissOutput
)

var drop = Miss{Kind: MissDrop}

func next(t Table) Miss { return Miss{Kind: MissNext, Next: t.ID} }

// The pipeline, in the order a packet walks it (declared from the last
// table, which the misses of earlier ones name). Gaps between numbers
// leave room for stages to come without renumbering.
var (
	Output          = Table{80, "Output", "`output:reg1`", Miss{Kind: MissOutput}}
	ConntrackCommit = Table{70, "ConntrackCommit", "commit new connections; those from gw0 get `ct_mark=1`", next(Output)}
	IngressRules    = Table{60, "IngressRules", "NetworkPolicy ingress of local pods: not-new and the node's own address (probes) pass; rules as conjunctions; isolated pod → drop", next(ConntrackCommit)}
	SubnetIsolation = Table{55, "SubnetIsolation", "private subnets: new connections only from the subnet itself, `allowSubnets` and this node", next(IngressRules)}
	L2Forwarding    = Table{50, "L2Forwarding", "destination MAC → output port in reg1", drop}
	L3Forwarding    = Table{40, "L3Forwarding", "to the router MAC: local pod → rewrite MACs; remote block → `tun_dst`=that node, out tun0", next(L2Forwarding)}
	EgressRules     = Table{30, "EgressRules", "NetworkPolicy egress of local pods: not-new (`-new+trk`) and pod→service (judged after kube-proxy's DNAT, when it returns from gw0) pass; rules as conjunctions; isolated pod → drop", next(L3Forwarding)}
	ConntrackState  = Table{21, "ConntrackState", "drop invalid; replies of connections that entered from gw0 (kube-proxy DNAT) go back to gw0", next(EgressRules)}
	Conntrack       = Table{20, "Conntrack", "`ct(zone=65520)` for IP", drop}
	ARPResponder    = Table{10, "ARPResponder", "gateway IPs → gw0's MAC; local pod IP → its MAC; any other subnet address → the router MAC `0a:00:00:00:00:01`", drop}
	Classifier      = Table{0, "Classifier", "from tun0 only with `tun_src` = another node's underlay address (one flow per node; the rest hits a drop with cookie `0x4b04000000000000`); from gw0: record the source in reg0; from a pod: only its own MAC + IP (spoof guard)", drop}
)

// Tables lists the pipeline in packet order.
var Tables = []Table{Classifier, ARPResponder, Conntrack, ConntrackState, EgressRules,
	L3Forwarding, L2Forwarding, SubnetIsolation, IngressRules, ConntrackCommit, Output}

// TableNames maps each table's number to its name (the names br-int gives
// its OpenFlow tables, which ovs-ofctl --names prints).
func TableNames() map[uint8]string {
	names := make(map[uint8]string, len(Tables))
	for _, t := range Tables {
		names[t.ID] = t.Name
	}
	return names
}

// TableByID returns the table with the given number.
func TableByID(id uint8) (Table, bool) {
	for _, t := range Tables {
		if t.ID == id {
			return t, true
		}
	}
	return Table{}, false
}
