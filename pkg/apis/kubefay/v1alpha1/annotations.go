package v1alpha1

// Annotations users put on namespaces and pods, in the order they are read.
// The short forms are the original Kubefay's public API; the prefixed forms
// are aliases.
var (
	// NamespaceSubnetAnnotations on a Namespace name the SubNet of its pods.
	NamespaceSubnetAnnotations = []string{"subnet", "kubefay.io/subnet"}
	// PodIPv4Annotations on a Pod give it that IPv4 address.
	PodIPv4Annotations = []string{"IPv4", "kubefay.io/ipv4"}
	// PodIPPoolAnnotations on a Pod (typically in the pod template of a
	// Deployment or StatefulSet) list the IPv4 addresses, comma-separated,
	// its pods take theirs from: the first one no other live pod holds (a
	// StatefulSet pod: the entry of its ordinal). PodIPv4Annotations win
	// over it.
	PodIPPoolAnnotations = []string{"ipPool", "kubefay.io/ip-pool"}
)

// NodeSubnetProblemsAnnotation on a Node is written by that node's agent
// (and by nothing else: build/helm/kubefay/templates/node-admission.yaml): a JSON object
// SubNet name -> why the node cannot serve it (e.g. a foreign route holds
// its CIDR). Absent when the node serves every SubNet. The controller turns
// it into the SubNets' Programmed condition.
const NodeSubnetProblemsAnnotation = "kubefay.io/subnet-problems"
