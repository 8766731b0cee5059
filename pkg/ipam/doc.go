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
// Group commit: the requests of one node in one subnet (allocations, and
// releases in that node's blocks) wait in one queue. The first of them
// leads: it takes every request queued at that moment and writes them
// together, one write per block they touch, while later requests queue up
// for the next batch. A burst of pods on a node thus costs a few writes
// instead of one write each, queued one behind the other. The batch fills
// the node's blocks lowest first and claims a new block (created with its
// addresses already in it) only when they are full. A conflict re-reads the
// block and plans the requests that write carried again; a failure fails
// only the requests it concerns. A request whose context ends while it
// waits is never written; once its batch has started it gets the batch's
// outcome, and the batch's writes go on while any member still waits for
// them. Requested addresses (static IP, ip pool) take their own path, one
// at a time, inside the batch.
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
