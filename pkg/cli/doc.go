// Package cli implements kubectl-kubefay, the kubectl plugin that shows
// kubefay's address management — SubNets, the IPAMBlocks nodes claimed from
// them and every address allocated in those blocks — and its datapath:
// packet traces (trace), flows with their owners (flows) and the agents'
// state (agent status).
//
// The address commands only read the API (SubNets, IPAMBlocks, Namespaces).
// Usage figures are computed from the IPAMBlocks, which are the source of
// truth; a SubNet's status is a bounded, possibly lagging, summary of them.
// The datapath commands reach a node's agent through the API server with
// the user's credentials: they exec `kubefay-agent ctl` in its pod.
package cli
