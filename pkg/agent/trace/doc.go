// Package trace runs `ovs-appctl ofproto/trace` on br-int for a packet
// built from a pod's real addresses, parses its output into the tables and
// flows the packet hit, and decides where the packet ends: delivered to a
// port, sent into the tunnel, handed to the host, or dropped (and by which
// flow). Naming the owners of the flows needs the agent's state; see
// pkg/agent (the local control socket).
package trace
