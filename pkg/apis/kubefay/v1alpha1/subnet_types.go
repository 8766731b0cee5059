package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IPVersion4 is the only address family a SubNet supports for now.
const IPVersion4 = "v4"

// DefaultBlockSize is the prefix length of a node's block when a SubNet
// does not set spec.blockSize.
const DefaultBlockSize = 26

// MaxUsedIPsInStatus bounds SubNetStatus.UsedPool so that the status of a
// large subnet stays small; Used always carries the full count.
const MaxUsedIPsInStatus = 256

// SubNet is a range of addresses pods draw from. Every node routes every
// SubNet; its gateway is present on every node (anycast).
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=sn;subnet,categories=kubefay
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="CIDR",type=string,JSONPath=`.spec.cidr`
// +kubebuilder:printcolumn:name="Gateway",type=string,JSONPath=`.status.gateway`
// +kubebuilder:printcolumn:name="Used",type=integer,JSONPath=`.status.used`
// +kubebuilder:printcolumn:name="Available",type=integer,JSONPath=`.status.available`
// +kubebuilder:printcolumn:name="Namespaces",type=string,JSONPath=`.spec.namespaces`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SubNet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SubNetSpec   `json:"spec"`
	Status SubNetStatus `json:"status,omitempty"`
}

// SubNetSpec is what a user declares about a SubNet.
//
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || size(self.gateway) == 0 || !isCIDR(self.cidr) || !isIP(self.gateway) || cidr(self.cidr).containsIP(self.gateway)",message="gateway must be an address inside cidr"
// +kubebuilder:validation:XValidation:rule="!isCIDR(self.cidr) || (has(self.ipVersion) && self.ipVersion != 'v4') || cidr(self.cidr).ip().family() == 4",message="cidr must be an IPv4 CIDR when ipVersion is v4"
// +kubebuilder:validation:XValidation:rule="(has(oldSelf.gateway) ? oldSelf.gateway : '-') == (has(self.gateway) ? self.gateway : '-') || !isCIDR(self.cidr) || ((!has(oldSelf.gateway) || size(oldSelf.gateway) == 0 || (isIP(oldSelf.gateway) && cidr(oldSelf.gateway + '/31').masked().ip() == cidr(self.cidr).masked().ip() && !(ip(oldSelf.gateway) == cidr(self.cidr).masked().ip()))) && (!has(self.gateway) || size(self.gateway) == 0 || (isIP(self.gateway) && cidr(self.gateway + '/31').masked().ip() == cidr(self.cidr).masked().ip() && !(ip(self.gateway) == cidr(self.cidr).masked().ip()))))",message="gateway is immutable: pods route through it, and a former gateway would become an address IPAM hands out (only spelling out or dropping the default, the first address, is allowed)"
type SubNetSpec struct {
	// IPVersion is the address family: only "v4" for now.
	//
	// +kubebuilder:validation:Enum=v4
	// +kubebuilder:default=v4
	// +optional
	IPVersion string `json:"ipVersion,omitempty"`

	// CIDR is the subnet's range in its canonical form, e.g. 10.192.0.0/16.
	// It cannot be changed once set.
	//
	// +kubebuilder:validation:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="cidr must be a CIDR such as 10.192.0.0/16"
	// +kubebuilder:validation:XValidation:rule="!isCIDR(self) || cidr(self) == cidr(self).masked()",message="cidr must be a network address (host bits zero), such as 10.192.0.0/16"
	// +kubebuilder:validation:XValidation:rule="!isCIDR(self) || cidr(self).prefixLength() <= 30",message="cidr must have a prefix length of at most 30"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cidr is immutable"
	CIDR string `json:"cidr"`

	// Gateway is the subnet's gateway address; it defaults to the first
	// address after the network address. IPAM never hands it to a pod.
	// It cannot be changed once set (a rule on SubNetSpec: the gateway in
	// effect must stay the same, so only the default may be spelled out or
	// dropped).
	//
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:XValidation:rule="size(self) == 0 || isIP(self)",message="gateway must be an IP address"
	// +optional
	Gateway string `json:"gateway,omitempty"`

	// BlockSize is the prefix length of the blocks nodes claim from the
	// subnet (default 26: 64 addresses). A subnet smaller than a block is
	// one block. It cannot be changed once set.
	//
	// +kubebuilder:validation:Minimum=20
	// +kubebuilder:validation:Maximum=32
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="blockSize is immutable"
	// +optional
	BlockSize int32 `json:"blockSize,omitempty"`

	// ExcludeIPs are addresses IPAM never hands out: single addresses
	// ("10.192.0.5") or inclusive ranges ("10.192.0.10..10.192.0.20").
	//
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=81
	// +kubebuilder:validation:items:XValidation:rule="isIP(self) || (self.contains('..') && self.split('..').size() == 2 && isIP(self.split('..')[0]) && isIP(self.split('..')[1]))",message="each excludeIPs entry must be an IP address or a range a..b"
	// +optional
	ExcludeIPs []string `json:"excludeIPs,omitempty"`

	// NATOutgoing masquerades traffic from the subnet to destinations
	// outside the cluster. Defaults to true.
	//
	// +kubebuilder:default=true
	// +optional
	NATOutgoing *bool `json:"natOutgoing,omitempty"`

	// Private isolates the subnet: only traffic from the subnet itself and
	// from AllowSubnets may reach its pods.
	//
	// +optional
	Private bool `json:"private,omitempty"`

	// AllowSubnets are the CIDRs allowed into a private subnet.
	//
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=43
	// +optional
	AllowSubnets []string `json:"allowSubnets,omitempty"`

	// Namespaces whose pods draw from this subnet by default.
	//
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=63
	// +optional
	Namespaces []string `json:"namespaces,omitempty"`
}

// SubNetStatus is what the controller observes about a SubNet.
type SubNetStatus struct {
	// Gateway is the gateway in effect (spec.gateway or its default).
	// +optional
	Gateway string `json:"gateway,omitempty"`
	// Used counts the allocated addresses.
	// +optional
	Used int64 `json:"used"`
	// Available counts the addresses IPAM can still hand out (the range
	// minus network/broadcast address, gateway, excludeIPs and Used).
	// +optional
	Available int64 `json:"available"`
	// PoolStatus sums up the subnet's addresses in one line, e.g.
	// "4 of 65533 addresses used (3 pods, 1 node address), 65529 available".
	// +optional
	PoolStatus string `json:"poolStatus,omitempty"`
	// UsedPool lists allocated addresses in address order, at most
	// MaxUsedIPsInStatus of them (Used has the full count), one line each
	// with its columns aligned: address, node, holder (namespace/pod, or
	// "(node address)" for a node's own address on its gateway port),
	// container ID (abbreviated), interface, and "static" for an address
	// the pod asked for, e.g.
	// "10.192.0.5   node1  default/nginx-1  container 1a2b3c4d  eth0".
	// The IPAMBlocks hold the same data in full.
	//
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=1024
	// +listType=atomic
	// +optional
	UsedPool []string `json:"usedPool,omitempty"`
	// UsedIPs listed allocated addresses as objects.
	//
	// Deprecated: no longer written (kubectl describe ran each entry's
	// fields together); read UsedPool, or the IPAMBlocks for structured
	// data. Kept so that objects written by earlier controllers decode.
	//
	// +kubebuilder:validation:MaxItems=256
	// +listType=atomic
	// +optional
	UsedIPs []UsedIP `json:"usedIPs,omitempty"`
	// Conditions: Ready (the subnet is valid and its status current).
	//
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// UsedIP is one allocated address and its holder (SubNetStatus.UsedIPs,
// deprecated).
type UsedIP struct {
	// IP is the address.
	IP string `json:"ip"`
	// Node is the node of the holder.
	Node string `json:"node,omitempty"`
	// Namespace is the pod's namespace.
	Namespace string `json:"namespace,omitempty"`
	// Pod is the pod's name.
	Pod string `json:"pod,omitempty"`
	// ContainerID is the pod sandbox's container ID.
	ContainerID string `json:"containerID,omitempty"`
	// Interface is the pod's interface.
	Interface string `json:"interface,omitempty"`
}

// SubNetList is a list of SubNets.
//
// +kubebuilder:object:root=true
type SubNetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SubNet `json:"items"`
}
