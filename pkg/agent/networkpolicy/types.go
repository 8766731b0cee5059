package networkpolicy

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// Pod is what the engine needs to know of a pod. Pods without a valid IPv4
// address are ignored.
type Pod struct {
	Namespace, Name string
	Labels          map[string]string
	IP              netip.Addr
	// Node is the node the pod runs on; only pods of the engine's node are
	// ever isolated or applied-to, pods elsewhere only matter as peers.
	Node string
	// Ports are the container ports (spec.containers[].ports), for named
	// ports in policies.
	Ports []NamedPort
}

// NamedPort is one container port of a pod.
type NamedPort struct {
	Name     string
	Protocol corev1.Protocol // empty means TCP
	Port     int32
}

// Namespace is a namespace and its labels (for namespaceSelector).
// Namespaces the engine was never told about have no labels.
type Namespace struct {
	Name   string
	Labels map[string]string
}

// Direction is the direction of a rule or an isolation.
type Direction string

// Directions of NetworkPolicy rules.
const (
	Ingress Direction = "Ingress"
	Egress  Direction = "Egress"
)

// RuleInfo describes one cookie of the engine's flows, for metrics and the
// CLI: either a conjunction (ConjID != 0) of a policy rule or the default
// deny of a pod.
type RuleInfo struct {
	// Cookie is the cookie of the rule's allow flow (conj_id flow or direct
	// flows) or of the default-deny flow.
	Cookie uint64
	// ConjID is the conjunction id, 0 for a default deny.
	ConjID uint32
	// Direction of the rule or the isolation.
	Direction Direction
	// Namespace and Policy name the policy and RuleIndex its rule (index in
	// spec.ingress or spec.egress); empty for a default deny.
	Namespace, Policy string
	RuleIndex         int
	// Pod is namespace/name of the isolated pod of a default deny.
	Pod string
	// Split tells several conjunctions of one rule apart: the resolved
	// ports of a named port; empty when the rule needs one conjunction.
	Split string
}
