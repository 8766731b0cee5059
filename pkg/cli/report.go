package cli

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// SubnetReport is what `subnet show` prints (and `subnet show -o json`
// encodes): a SubNet with its usage computed from its IPAMBlocks.
type SubnetReport struct {
	Name string              `json:"name"`
	Spec v1alpha1.SubNetSpec `json:"spec"`
	// Invalid is the reason the spec cannot be used; Pool and Blocks' free
	// counts are then zero.
	Invalid string `json:"invalid,omitempty"`
	// Gateway in effect (spec.gateway or its default).
	Gateway string `json:"gateway,omitempty"`
	// BlockSize is the prefix length of the subnet's blocks in effect.
	BlockSize  int          `json:"blockSize,omitempty"`
	Namespaces []string     `json:"namespaces"`
	Pool       PoolUsage    `json:"pool"`
	Blocks     []BlockUsage `json:"blocks"`
	// UsedIPs lists every allocated address in address order.
	UsedIPs []UsedIP `json:"usedIPs"`
	// Status is the SubNet's status as the controller last wrote it.
	Status StatusSummary `json:"status"`
}

// StatusSummary is the controller's view of a SubNet's usage.
type StatusSummary struct {
	Used      int64 `json:"used"`
	Available int64 `json:"available"`
}

// PoolUsage counts a subnet's addresses.
type PoolUsage struct {
	// Capacity: the addresses IPAM can hand out (the CIDR minus network,
	// broadcast and gateway address and the excluded addresses).
	Capacity int64 `json:"capacity"`
	// Used: allocated addresses.
	Used int64 `json:"used"`
	// Available: Capacity minus Used (never negative).
	Available int64 `json:"available"`
	// Excluded: addresses of spec.excludeIPs inside the CIDR.
	Excluded int64 `json:"excluded"`
	// Percent is Used over Capacity, in percent.
	Percent float64 `json:"percent"`
}

// BlockUsage is one IPAMBlock of a subnet.
type BlockUsage struct {
	Name string `json:"name"`
	CIDR string `json:"cidr"`
	Node string `json:"node"`
	// Used counts the block's allocations; Size its addresses; Free the
	// addresses it can still hand out.
	Used int `json:"used"`
	Size int `json:"size"`
	Free int `json:"free"`
}

// UsedIP is one allocated address and its holder.
type UsedIP struct {
	IP    string `json:"ip"`
	Block string `json:"block"`
	v1alpha1.Allocation
	// NodeGateway is set for a node's own address (on its gateway port).
	NodeGateway bool `json:"nodeGateway,omitempty"`
}

// isNodeGateway tells the allocation the agent makes for its node's
// gateway port (no pod, container ID "node-<node>").
func isNodeGateway(a v1alpha1.Allocation) bool {
	return a.IsNodeAddress()
}

// gatewayNode returns the node of a node-gateway allocation.
func gatewayNode(a v1alpha1.Allocation) string {
	if a.Node != "" {
		return a.Node
	}
	return strings.TrimPrefix(a.ContainerID, v1alpha1.NodeAddressContainerIDPrefix)
}

// buildReport computes the report of sn from the inventory.
func buildReport(inv *inventory, sn *v1alpha1.SubNet) *SubnetReport {
	r := &SubnetReport{
		Name:       sn.Name,
		Spec:       sn.Spec,
		Namespaces: inv.namespacesOf(sn),
		Status:     StatusSummary{Used: sn.Status.Used, Available: sn.Status.Available},
		Blocks:     []BlockUsage{},
		UsedIPs:    []UsedIP{},
	}
	parsed, err := ipam.ParseSubnet(sn)
	if err != nil {
		r.Invalid = err.Error()
		r.Gateway = sn.Status.Gateway
	} else {
		r.Gateway = parsed.Gateway.String()
		r.BlockSize = parsed.BlockBits
		r.Pool.Capacity = parsed.Capacity()
		for _, e := range parsed.Excluded {
			r.Pool.Excluded += int64(ipDistance(e.First, e.Last)) + 1
		}
	}
	type sortable struct {
		ip netip.Addr
		UsedIP
	}
	var used []sortable
	for _, b := range inv.blocksOf(sn.Name) {
		bu := BlockUsage{Name: b.Name, CIDR: b.Spec.CIDR, Node: b.Spec.Node}
		prefix, perr := netip.ParsePrefix(b.Spec.CIDR)
		if perr == nil {
			prefix = prefix.Masked()
			bu.Size = 1 << (prefix.Addr().BitLen() - prefix.Bits())
		}
		if parsed != nil {
			if pool, err := ipam.PoolOf(parsed, b); err == nil {
				bu.Free = pool.Free()
			}
		}
		for ip, a := range b.Spec.Allocations {
			addr, err := netip.ParseAddr(ip)
			if err != nil {
				continue
			}
			if parsed != nil && !parsed.CIDR.Contains(addr) {
				continue
			}
			if perr == nil && prefix.Contains(addr) {
				bu.Used++
			}
			used = append(used, sortable{addr, UsedIP{IP: addr.String(), Block: b.Name, Allocation: a, NodeGateway: isNodeGateway(a)}})
		}
		r.Blocks = append(r.Blocks, bu)
	}
	sort.Slice(used, func(i, j int) bool { return used[i].ip.Less(used[j].ip) })
	for _, u := range used {
		if u.Node == "" {
			u.Node = blockNode(inv, u.Block)
		}
		r.UsedIPs = append(r.UsedIPs, u.UsedIP)
	}
	r.Pool.Used = int64(len(used))
	if parsed != nil {
		r.Pool.Available = max(r.Pool.Capacity-r.Pool.Used, 0)
		if r.Pool.Capacity > 0 {
			r.Pool.Percent = float64(r.Pool.Used) * 100 / float64(r.Pool.Capacity)
		}
	}
	return r
}

// blockNode returns the node owning the IPAMBlock called name.
func blockNode(inv *inventory, name string) string {
	for i := range inv.blocks {
		if inv.blocks[i].Name == name {
			return inv.blocks[i].Spec.Node
		}
	}
	return ""
}

// ipDistance is b minus a for IPv4 addresses.
func ipDistance(a, b netip.Addr) uint32 {
	return be32(b) - be32(a)
}

func be32(a netip.Addr) uint32 {
	x := a.As4()
	return uint32(x[0])<<24 | uint32(x[1])<<16 | uint32(x[2])<<8 | uint32(x[3])
}
