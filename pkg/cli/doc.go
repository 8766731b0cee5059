// Package cli implements kubectl-kubefay, the kubectl plugin that shows
// kubefay's address management: SubNets, the IPAMBlocks nodes claimed from
// them and every address allocated in those blocks.
//
// The plugin only reads the API (SubNets, IPAMBlocks, Namespaces). Usage
// figures are computed from the IPAMBlocks, which are the source of truth;
// a SubNet's status is a bounded, possibly lagging, summary of them.
package cli
