// Package ctl is the agent's local control API: HTTP+JSON on a unix socket
// next to the CNI socket, readable by root only. It answers the status of
// the node's datapath, the installed flows with their owners, and packet
// traces. Nothing listens on the network: users reach it through the
// Kubernetes API with their own credentials (`kubectl kubefay` execs
// `kubefay-agent ctl` in the node's agent pod, which needs pods/exec).
package ctl
