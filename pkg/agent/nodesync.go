package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"

	"k8s.io/klog/v2"

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
	NodeAddress netip.Addr
	// ServiceCIDRs are the cluster's service ranges (IPv6 ones are ignored).
	ServiceCIDRs []netip.Prefix
	MTU          int
	Flows        *flowsync.Syncer[*of.Flow]
	// HostNetwork applies the host side; (*nodenet.Reconciler).Apply in production.
	HostNetwork func(ctx context.Context, d nodenet.Desired) error
	// SubnetProblem, when set, is told of a SubNet the host network cannot
	// serve on this node (e.g. another owner's route holds its CIDR).
	SubnetProblem func(subnet, message string)
	// SubnetProblems, when set, is given the whole set of SubNets the host
	// network cannot serve (subnet -> problem, naming the clashing route)
	// on the first sync and whenever the set changes, the empty set
	// included; the agent publishes it on its Node for the controller's
	// SubNet conditions. After an error it is called again on the next sync.
	SubnetProblems func(problems map[string]string) error

	reported  map[string]string // subnet -> clashing route last reported
	published map[string]string // the set SubnetProblems last accepted
	pubDone   bool              // published is valid (set by a successful call)
}

// Owner keys of node-wide flows in the flow syncer.
const (
	ownerBase    = "node/base"
	ownerSubnets = "node/subnets"
	ownerTunnels = "node/tunnels"
)

// Sync computes the desired node state from v and applies it: host network
// first (so gw0 holds every gateway before pods are answered with its MAC),
// then all node flows in one bundle. A host-network failure confined to one
// SubNet (its route clashes with a foreign one) is reported and does not
// fail the sync; any other host-network failure fails it, but only after
// the flows are installed, so that the rest of the node keeps working.
func (s *NodeSync) Sync(ctx context.Context, v ClusterView) error {
	var hostErr error
	if s.HostNetwork != nil {
		var conflicts []*nodenet.RouteConflict
		conflicts, hostErr = nodenet.SplitRouteConflicts(s.HostNetwork(ctx, s.hostDesired(v)))
		s.reportConflicts(v, conflicts)
	}
	node := pipeline.Node{GatewayMAC: s.GatewayMAC, NodeAddress: s.NodeAddress, Subnets: v.Subnets,
		ServiceCIDRs: ipv4Only(s.ServiceCIDRs)}
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
		return errors.Join(fmt.Errorf("flows: %w", err), hostErr)
	}
	if hostErr != nil {
		return fmt.Errorf("host network: %w", hostErr)
	}
	return nil
}

// reportConflicts tells SubnetProblem about each SubNet whose route is held
// by another owner, once per new or changed problem.
func (s *NodeSync) reportConflicts(v ClusterView, conflicts []*nodenet.RouteConflict) {
	set := map[string]string{} // subnet -> the clashing route
	for _, c := range conflicts {
		for _, sn := range v.Subnets {
			if sn.CIDR.String() == c.Dst {
				set[sn.Name] = c.Error()
			}
		}
	}
	s.publishProblems(set)
	for name, problem := range set {
		if s.reported[name] != problem {
			msg := fmt.Sprintf("node %s cannot route SubNet %s: %s; its pods on this node are not reachable from the node (remove or move that route)",
				s.Node, name, problem)
			klog.ErrorS(nil, "SubNet not programmed on this node", "subnet", name, "problem", msg)
			if s.SubnetProblem != nil {
				s.SubnetProblem(name, msg)
			}
		}
	}
	for name := range s.reported {
		if _, still := set[name]; !still {
			klog.InfoS("SubNet route conflict resolved", "subnet", name)
		}
	}
	s.reported = set
}

// publishProblems hands the problem set to SubnetProblems when it differs
// from the last one accepted (or none was yet); a failure is logged and the
// set offered again on the next sync.
func (s *NodeSync) publishProblems(set map[string]string) {
	if s.SubnetProblems == nil || (s.pubDone && maps.Equal(s.published, set)) {
		return
	}
	if err := s.SubnetProblems(maps.Clone(set)); err != nil {
		klog.ErrorS(err, "Publishing the SubNets this node cannot serve failed; retrying on the next sync", "problems", set)
		s.pubDone = false
		return
	}
	s.published, s.pubDone = set, true
}

func (s *NodeSync) hostDesired(v ClusterView) nodenet.Desired {
	return nodenet.Desired{GatewayIface: s.GatewayPort, NodeAddress: s.NodeAddress, Subnets: v.Subnets,
		ServiceCIDRs: s.ServiceCIDRs, MTU: s.MTU}
}

// ipv4Only returns the IPv4 prefixes of ps.
func ipv4Only(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.Addr().Is4() {
			out = append(out, p)
		}
	}
	return out
}
