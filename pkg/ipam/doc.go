// Package ipam hands out pod addresses from SubNets, cluster-wide, without a
// central allocator in the pod path.
//
// A SubNet is cut into blocks (spec.blockSize, /26 by default). A node claims
// a block by creating its IPAMBlock object: the object's name is derived
// from the subnet and the block's CIDR, so a create that fails with
// AlreadyExists means another node got there first and the next block is
// tried. Allocations live inside the block and are written with an update
// carrying the block's resourceVersion: a conflict means someone else wrote
// the block in between, and the allocation is retried on a fresh copy. In the
// common case a pod costs one API write (an update of its node's block, or
// the create of a new block that already holds the pod's address) and no API
// read when the Allocator reads from an informer cache.
//
// Allocations are keyed by container ID and interface: asking again for the
// same key returns the same address. When every block of a subnet is
// claimed, a node borrows free addresses from other nodes' blocks; the
// allocation then records the node the pod lives on.
//
// A pod may ask for an address (Request.StaticIP) or for one of a list
// (Request.Pool, the ip-pool annotation: the first one no other live pod
// holds). Such an address is taken from whichever block holds it, and taken
// over from a holder whose pod is gone.
//
// Pool is the pure, in-memory allocator of one block; Subnet is the parsed
// view of a SubNet (gateway, reserved and excluded addresses).
package ipam
