package v1alpha1

import "strings"

// NodeAddressContainerIDPrefix starts the ContainerID of a node's own
// address (the one on its gateway port, gw0) in an IPAMBlock: the agent
// allocates it as "node-" + the node's name, with no pod.
const NodeAddressContainerIDPrefix = "node-"

// IsNodeAddress reports whether a holds a node's own address rather than a
// pod's.
func (a Allocation) IsNodeAddress() bool {
	return a.Pod == "" && strings.HasPrefix(a.ContainerID, NodeAddressContainerIDPrefix)
}
