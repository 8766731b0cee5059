package cli

import (
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// Statuses `kubectl kubefay ip` reports for an address.
const (
	// IPInUse: an IPAMBlock records a holder for the address.
	IPInUse = "in use"
	// IPFree: IPAM may hand the address out.
	IPFree = "free"
	// IPExcluded: the address is in the subnet's spec.excludeIPs.
	IPExcluded = "excluded"
	// IPGateway: the address is the subnet's gateway.
	IPGateway = "gateway"
	// IPNetwork: the address is the subnet's network address.
	IPNetwork = "network address"
	// IPBroadcast: the address is the subnet's broadcast address.
	IPBroadcast = "broadcast address"
	// IPNoSubnet: no SubNet (nor orphan IPAMBlock) covers the address.
	IPNoSubnet = "not in any subnet"
)

// IPReport is what `kubectl kubefay ip` finds about an address in one
// subnet (or in an IPAMBlock whose SubNet no longer exists).
type IPReport struct {
	IP     string
	Status string
	// Subnet and its CIDR; SubnetMissing when only an orphan block holds it.
	Subnet, SubnetCIDR string
	SubnetMissing      bool
	// Block is the IPAMBlock covering the address, if one was claimed.
	Block, BlockCIDR, BlockNode string
	// Holder is set when Status is IPInUse.
	Holder *UsedIP
	// Note explains an anomaly, e.g. an allocation on an excluded address.
	Note string
}

func newIPCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "ip IP",
		Short: "Tell who holds an IP address",
		Long: "Tell which subnet and block an address belongs to and who holds it (node,\n" +
			"pod, container, interface), or that it is free, excluded, the gateway, or the\n" +
			"network or broadcast address.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ip, err := netip.ParseAddr(args[0])
			if err != nil || !ip.Is4() {
				return fmt.Errorf("%q is not an IPv4 address", args[0])
			}
			inv, err := load(cmd.Context(), o, false)
			if err != nil {
				return err
			}
			for i, r := range lookupIP(inv, ip) {
				if i > 0 {
					fmt.Fprintln(o.out())
				}
				if err := printIP(o, r); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// lookupIP reports ip in every subnet containing it, then in blocks of
// subnets that no longer exist; a single IPNoSubnet report if none.
func lookupIP(inv *inventory, ip netip.Addr) []IPReport {
	var out []IPReport
	for i := range inv.subnets {
		sn := &inv.subnets[i]
		parsed, err := ipam.ParseSubnet(sn)
		if err != nil || !parsed.CIDR.Contains(ip) {
			continue
		}
		r := IPReport{IP: ip.String(), Subnet: sn.Name, SubnetCIDR: parsed.CIDR.String()}
		b, held := findHolder(inv.blocksOf(sn.Name), ip, &r)
		reserved := reservedStatus(parsed, ip)
		switch {
		case held:
			r.Status = IPInUse
			if reserved != "" {
				r.Note = "the address is the subnet's " + reserved + " yet allocated"
			}
		case reserved != "":
			r.Status = reserved
		default:
			r.Status = IPFree
		}
		if b == nil {
			r.BlockCIDR = parsed.BlockFor(ip).String()
		}
		out = append(out, r)
	}
	for i := range inv.blocks {
		if _, ok := inv.subnet(inv.blocks[i].Spec.Subnet); ok {
			continue
		}
		r := IPReport{IP: ip.String(), Subnet: inv.blocks[i].Spec.Subnet, SubnetMissing: true}
		if _, held := findHolder([]*v1alpha1.IPAMBlock{&inv.blocks[i]}, ip, &r); held {
			r.Status = IPInUse
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = append(out, IPReport{IP: ip.String(), Status: IPNoSubnet})
	}
	return out
}

// findHolder finds the block covering ip among blocks (recording it in r)
// and the allocation of ip in it (recorded as r.Holder).
func findHolder(blocks []*v1alpha1.IPAMBlock, ip netip.Addr, r *IPReport) (*v1alpha1.IPAMBlock, bool) {
	for _, b := range blocks {
		p, err := netip.ParsePrefix(b.Spec.CIDR)
		if err != nil || !p.Masked().Contains(ip) {
			continue
		}
		r.Block, r.BlockCIDR, r.BlockNode = b.Name, p.Masked().String(), b.Spec.Node
		for key, a := range b.Spec.Allocations {
			if k, err := netip.ParseAddr(key); err == nil && k == ip {
				u := UsedIP{IP: ip.String(), Block: b.Name, Allocation: a, NodeGateway: isNodeGateway(a)}
				if u.Node == "" {
					u.Node = b.Spec.Node
				}
				r.Holder = &u
				return b, true
			}
		}
		return b, false
	}
	return nil, false
}

// reservedStatus tells why IPAM never hands ip out, "" if it may.
func reservedStatus(s *ipam.Subnet, ip netip.Addr) string {
	switch s.ReservedReason(ip) {
	case ipam.ReasonIPReserved:
		if ip == s.Gateway {
			return IPGateway
		}
		if ip == s.CIDR.Addr() {
			return IPNetwork
		}
		return IPBroadcast
	case ipam.ReasonIPExcluded:
		return IPExcluded
	}
	return ""
}

func printIP(o *Options, r IPReport) error {
	w := newTable(o.out())
	row(w, "IP:", r.IP)
	row(w, "Status:", r.Status)
	if r.Subnet != "" {
		sub := fmt.Sprintf("%s (%s)", r.Subnet, r.SubnetCIDR)
		if r.SubnetMissing {
			sub = r.Subnet + " (SubNet not found)"
		}
		row(w, "Subnet:", sub)
	}
	switch {
	case r.Block != "":
		row(w, "Block:", fmt.Sprintf("%s (%s, node %s)", r.Block, r.BlockCIDR, orDash(r.BlockNode)))
	case r.BlockCIDR != "":
		row(w, "Block:", r.BlockCIDR+" (not claimed by any node yet)")
	}
	if h := r.Holder; h != nil {
		ns, pod := holder(*h)
		row(w, "Node:", orDash(h.Node))
		row(w, "Namespace:", ns)
		row(w, "Pod:", pod)
		row(w, "Pod UID:", orDash(h.PodUID))
		row(w, "Container:", orDash(h.ContainerID))
		row(w, "Interface:", orDash(h.Interface))
		row(w, "Static:", yesNo(h.Static))
		row(w, "Age:", age(o.now(), h.Created.Time))
	}
	if r.Note != "" {
		row(w, "Note:", r.Note)
	}
	return w.Flush()
}
