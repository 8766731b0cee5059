// Package api defines the wire protocol between the kubefay-cni binary, which
// the container runtime executes for every CNI command, and the kubefay agent
// of the node, which does the actual work.
//
// The binary sends one HTTP POST with a JSON Request to Path over the agent's
// unix socket and gets back a JSON Response: either a CNI 1.1.0 result or a
// CNI error (code, msg, details), which the binary prints as the runtime
// expects. The same error conventions serve both sides (AsCNIError).
package api
