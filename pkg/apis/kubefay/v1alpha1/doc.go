// Package v1alpha1 holds kubefay's custom resources: SubNet (an address
// range pods draw from) and IPAMBlock (one node's slice of a SubNet and the
// allocations inside it).
//
// +kubebuilder:object:generate=true
// +groupName=kubefay.kubefay.github.com
package v1alpha1
