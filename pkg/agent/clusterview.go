package agent

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// ClusterView is what the node's datapath depends on, read from the API
// (SubNets, IPAMBlocks, Nodes). It is rebuilt from the informer caches on
// every change: the sync is level-based, never driven by an event's delta.
type ClusterView struct {
	Subnets []SubnetView
	Blocks  []BlockView
	// NodeIPs maps node names to their underlay (tunnel endpoint) address.
	NodeIPs map[string]netip.Addr
}

// SubnetView is a SubNet as the node sees it: the one parsed form
// (ipam.ParseSubnet applies the defaults and parses every field once).
type SubnetView = ipam.Subnet

// BlockView is an IPAMBlock: its owner node and, for addresses living on
// another node than the owner (static IPs), where they live.
type BlockView struct {
	CIDR netip.Prefix
	Node string
	// Elsewhere maps addresses of the block allocated to pods on another
	// node than the block's owner to that node.
	Elsewhere map[netip.Addr]string
}

// RemoteBlocks returns the tunnel routes of node me: one per block owned by
// another node, and one /32 per address that lives away from its block's
// owner on a node other than me. Blocks of nodes without a known address
// are skipped (they come back when the Node reports one).
func (v ClusterView) RemoteBlocks(me string) []pipeline.RemoteBlock {
	var out []pipeline.RemoteBlock
	add := func(p netip.Prefix, node string) {
		if node == me {
			return
		}
		if ip, ok := v.NodeIPs[node]; ok && ip.IsValid() {
			out = append(out, pipeline.RemoteBlock{CIDR: p, NodeIP: ip})
		}
	}
	for _, b := range v.Blocks {
		add(b.CIDR, b.Node)
		for ip, node := range b.Elsewhere {
			add(netip.PrefixFrom(ip, 32), node)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CIDR.String() < out[j].CIDR.String() })
	return out
}

// RemoteNodeIPs returns the underlay addresses of every node but me, sorted
// and unique: the only outer sources tun0 accepts.
func (v ClusterView) RemoteNodeIPs(me string) []netip.Addr {
	mine := v.NodeIPs[me]
	var out []netip.Addr
	for node, ip := range v.NodeIPs {
		if node != me && ip.IsValid() && ip != mine && !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out
}
