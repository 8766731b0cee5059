package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/nodenet"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// NodeSync converges the node-wide state — base, subnet and tunnel flows,
// and the host side of gw0 (addresses, routes, NAT) — to a ClusterView.
type NodeSync struct {
	Node        string
	GatewayPort string
	GatewayMAC  net.HardwareAddr
	// NodeAddress is this node's own address in the default subnet.
	NodeAddress  netip.Addr
	ServiceCIDRs []*net.IPNet
	MTU          int
	Flows        *flowsync.Syncer[*of.Flow]
	// HostNetwork applies the host side; nodenet.Reconcile in production.
	HostNetwork func(ctx context.Context, d nodenet.Desired) error
}

// Owner keys of node-wide flows in the flow syncer.
const (
	ownerBase    = "node/base"
	ownerSubnets = "node/subnets"
	ownerTunnels = "node/tunnels"
)

// Sync computes the desired node state from v and applies it: host network
// first (so gw0 holds every gateway before pods are answered with its MAC),
// then all node flows in one bundle.
func (s *NodeSync) Sync(ctx context.Context, v ClusterView) error {
	if s.HostNetwork != nil {
		if err := s.HostNetwork(ctx, s.hostDesired(v)); err != nil {
			return fmt.Errorf("host network: %w", err)
		}
	}
	node := pipeline.Node{GatewayMAC: s.GatewayMAC, NodeAddress: s.NodeAddress, Subnets: v.PipelineSubnets(),
		ServiceCIDRs: prefixes(s.ServiceCIDRs)}
	s.Flows.Set(ownerBase, pipeline.BaseFlows(node))
	var subnetFlows []*of.Flow
	for _, sn := range node.Subnets {
		subnetFlows = append(subnetFlows, pipeline.SubnetFlows(node, sn)...)
	}
	s.Flows.Set(ownerSubnets, subnetFlows)
	var tunnelFlows []*of.Flow
	for _, b := range v.RemoteBlocks(s.Node) {
		tunnelFlows = append(tunnelFlows, pipeline.TunnelFlows(b)...)
	}
	for _, ip := range v.RemoteNodeIPs(s.Node) {
		tunnelFlows = append(tunnelFlows, pipeline.TunnelSourceFlows(ip)...)
	}
	s.Flows.Set(ownerTunnels, tunnelFlows)
	if _, err := s.Flows.Sync(ctx); err != nil {
		return fmt.Errorf("flows: %w", err)
	}
	return nil
}

func (s *NodeSync) hostDesired(v ClusterView) nodenet.Desired {
	d := nodenet.Desired{GatewayIface: s.GatewayPort, ServiceCIDRs: s.ServiceCIDRs, MTU: s.MTU}
	if s.NodeAddress.IsValid() {
		d.NodeAddress = s.NodeAddress.AsSlice()
	}
	for _, sn := range v.Subnets {
		d.Subnets = append(d.Subnets, nodenet.Subnet{Name: sn.Name,
			CIDR:    &net.IPNet{IP: sn.CIDR.Addr().AsSlice(), Mask: net.CIDRMask(sn.CIDR.Bits(), 32)},
			Gateway: sn.Gateway.AsSlice(), NATOutgoing: sn.NATOutgoing})
	}
	return d
}

// prefixes converts IPv4 networks to prefixes (others are skipped).
func prefixes(nets []*net.IPNet) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range nets {
		a, ok := netip.AddrFromSlice(n.IP.To4())
		if !ok {
			continue
		}
		ones, _ := n.Mask.Size()
		out = append(out, netip.PrefixFrom(a, ones).Masked())
	}
	return out
}
