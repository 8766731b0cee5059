package pipeline

import (
	"net"
	"net/netip"
)

// Fixed ports of br-int (requested with ofport_request when created).
const (
	TunnelOFPort  uint32 = 1
	GatewayOFPort uint32 = 2
)

// Registers and conntrack marks the pipeline uses.
const (
	// SourceReg (reg0[0..3]) records where a packet entered br-int.
	SourceReg = 0
	// OutputReg (reg1) holds the output port chosen by the forwarding tables.
	OutputReg = 1

	SourceTunnel  = 1
	SourceGateway = 2
	SourcePod     = 3

	// CTZone is the conntrack zone of pod traffic.
	CTZone = 0xfff0
	// CTMarkFromGateway marks connections that entered br-int from gw0.
	CTMarkFromGateway = 0x1
)

// RouterMAC is the MAC of kubefay's distributed router: OVS answers ARP for
// subnet addresses that live elsewhere with it, and routes what is sent to it.
var RouterMAC = net.HardwareAddr{0x0a, 0x00, 0x00, 0x00, 0x00, 0x01}

// Node is the node-wide state the pipeline needs.
type Node struct {
	// GatewayMAC is gw0's MAC.
	GatewayMAC net.HardwareAddr
	// NodeAddress is this node's own address in the default subnet (on gw0).
	NodeAddress netip.Addr
	// Subnets are every SubNet of the cluster.
	Subnets []Subnet
	// ServiceCIDRs are the cluster's service ranges: traffic to them leaves
	// through gw0 to kube-proxy and returns DNATed, when policy sees it.
	ServiceCIDRs []netip.Prefix
}

// Subnet is one SubNet as the datapath sees it.
type Subnet struct {
	Name    string
	CIDR    netip.Prefix
	Gateway netip.Addr
	// Private subnets accept new connections only from themselves, from
	// AllowFrom, and from this node (probes).
	Private   bool
	AllowFrom []netip.Prefix
}

// Pod is a local pod interface attached to br-int.
type Pod struct {
	// Namespace, Name and Interface identify the attachment (in cookies and logs).
	Namespace, Name, Interface string
	OFPort                     uint32
	MAC                        net.HardwareAddr
	IP                         netip.Addr
}

// RemoteBlock is an address block owned by another node, reached through
// the tunnel; a /32 block is a single address living away from its block's
// owner (a static IP).
type RemoteBlock struct {
	CIDR   netip.Prefix
	NodeIP netip.Addr
}
