// Package controller is kubefay's cluster controller: it makes sure the
// default SubNet exists, keeps every SubNet's status (used and available
// counts, a bounded list of used addresses) in line with the IPAMBlocks, and
// garbage-collects allocations whose pod is gone and blocks of deleted
// nodes. It runs as one active replica (leader election).
package controller
