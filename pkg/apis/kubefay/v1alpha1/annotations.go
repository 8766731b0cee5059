package v1alpha1

// Annotations users put on namespaces and pods, in the order they are read.
// The short forms are the original Kubefay's public API; the prefixed forms
// are aliases.
var (
	// NamespaceSubnetAnnotations on a Namespace name the SubNet of its pods.
	NamespaceSubnetAnnotations = []string{"subnet", "kubefay.io/subnet"}
	// PodIPv4Annotations on a Pod give it that IPv4 address.
	PodIPv4Annotations = []string{"IPv4", "kubefay.io/ipv4"}
)
