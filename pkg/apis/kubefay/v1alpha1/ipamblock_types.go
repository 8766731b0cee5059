package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels kubefay puts on IPAMBlocks so that clients can select them.
const (
	// LabelSubnet carries the name of the block's SubNet.
	LabelSubnet = GroupName + "/subnet"
	// LabelNode carries the name of the node owning the block.
	LabelNode = GroupName + "/node"
)

// IPAMBlock is one node's slice of a SubNet and the addresses allocated in
// it. A node claims a block by creating it (the name is derived from the
// subnet and the block's CIDR, so two nodes can never both create it) and
// records allocations by updating it with optimistic concurrency.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=ipb,categories=kubefay
// +kubebuilder:printcolumn:name="Subnet",type=string,JSONPath=`.spec.subnet`
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidr`
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.spec.node`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:selectablefield:JSONPath=`.spec.subnet`
// +kubebuilder:selectablefield:JSONPath=`.spec.node`
type IPAMBlock struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec IPAMBlockSpec `json:"spec"`
}

// IPAMBlockSpec is the block's range, owner and allocations.
type IPAMBlockSpec struct {
	// Subnet is the name of the SubNet the block belongs to.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="subnet is immutable"
	Subnet string `json:"subnet"`
	// CIDR is the block's range, inside the SubNet's.
	//
	// +kubebuilder:validation:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="cidr must be a CIDR such as 10.192.0.64/26"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cidr is immutable"
	CIDR string `json:"cidr"`
	// Node owns the block: new pods of that node get addresses from it.
	//
	// +kubebuilder:validation:MinLength=1
	Node string `json:"node"`
	// Allocations maps an address of the block to its holder. The map is
	// atomic for server-side apply: it is only ever written whole, with
	// the block's resourceVersion, and field-by-field tracking of its keys
	// would double the object and the API server's work on every write.
	//
	// +mapType=atomic
	// +optional
	Allocations map[string]Allocation `json:"allocations,omitempty"`
}

// Allocation is the holder of one address.
type Allocation struct {
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	// PodUID tells a pod from a later pod of the same name.
	// +optional
	PodUID      string `json:"podUID,omitempty"`
	ContainerID string `json:"containerID,omitempty"`
	Interface   string `json:"interface,omitempty"`
	// Node the holder runs on; differs from the block's node for a static
	// address taken in another node's block.
	Node string `json:"node,omitempty"`
	// Static is true for an address the pod asked for by name.
	// +optional
	Static bool `json:"static,omitempty"`
	// Created is when the address was allocated; the garbage collector
	// leaves young allocations alone so as not to race a pod being added.
	// +optional
	Created metav1.Time `json:"created,omitempty"`
}

// IPAMBlockList is a list of IPAMBlocks.
//
// +kubebuilder:object:root=true
type IPAMBlockList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAMBlock `json:"items"`
}
