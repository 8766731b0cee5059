package pipeline

import (
	"net"
	"net/netip"

	"github.com/kubefay/kubefay/pkg/ipam"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// Fixed ports of br-int (requested with ofport_request when created).
const (
	TunnelOFPort  uint32 = 1
	GatewayOFPort uint32 = 2
)

// Registers the pipeline uses, as typed fields and marks: every match and
// every load of a register goes through these.
var (
	// SourceField (reg0[0..3]) records where a packet entered br-int.
	SourceField = RegField{Reg: 0, Lo: 0, Hi: 3}
	// OutputField (reg1) holds the output port chosen by the forwarding tables.
	OutputField = RegField{Reg: 1, Lo: 0, Hi: 31}

	FromTunnel  = RegMark{SourceField, 1}
	FromGateway = RegMark{SourceField, 2}
	FromPod     = RegMark{SourceField, 3}
)

// Conntrack zone and marks the pipeline uses.
const (
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
	// Subnets are every SubNet of the cluster (ipam.ParseSubnet's form). The
	// pipeline reads Name, CIDR, Gateway, Private and AllowFrom: private
	// subnets accept new connections only from themselves, from AllowFrom,
	// and from this node (probes).
	Subnets []ipam.Subnet
	// ServiceCIDRs are the cluster's service ranges: traffic to them leaves
	// through gw0 to kube-proxy and returns DNATed, when policy sees it.
	ServiceCIDRs []netip.Prefix
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

// RegField is the bit range Lo..Hi (inclusive) of register Reg.
type RegField struct{ Reg, Lo, Hi int }

// Load sets the field to v.
func (f RegField) Load(v uint32) of.Action { return of.LoadReg(f.Reg, v, f.Lo, f.Hi) }

// Output sends the packet to the port number the field holds.
func (f RegField) Output() of.Action { return of.OutputReg(of.Reg(f.Reg), f.Lo, f.Hi) }

// RegMark is one value of a RegField.
type RegMark struct {
	Field RegField
	Value uint32
}

// Load sets the mark.
func (m RegMark) Load() of.Action { return m.Field.Load(m.Value) }

// Match matches packets carrying the mark.
func (m RegMark) Match(mt *of.Match) { mt.RegBits(m.Field.Reg, m.Value, m.Field.Lo, m.Field.Hi) }
