// Package scale runs kubefay's control plane at cluster scale on one
// machine: a real etcd + kube-apiserver (pkg/testing/apiserver), fake nodes
// and pods from kwok, the real kubefay-controller binary, and one simulated
// agent per node allocating its pods' addresses with the real pkg/ipam
// Allocator (real API writes, group commit).
//
// TestScale runs the short size (100 nodes, 5,000 pods) in `make test`;
// KUBEFAY_SCALE=full (hack/bench-scale) runs 1,000 nodes and 50,000 pods
// and prints every figure next to its target. Tests assert correctness only
// (no duplicate address, every pod allocated, at most one write per pod),
// never wall-clock times.
package scale
