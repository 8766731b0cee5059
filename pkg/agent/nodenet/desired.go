package nodenet

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sort"
)

// Subnet is one kubefay SubNet as the host sees it.
type Subnet struct {
	// Name of the SubNet, for messages only.
	Name string
	// CIDR is the SubNet's IPv4 prefix; routed to gw0.
	CIDR *net.IPNet
	// Gateway is the SubNet's gateway address, put on gw0 as a /32.
	Gateway net.IP
	// NATOutgoing masquerades traffic from CIDR to destinations outside the
	// cluster (neither a SubNet nor a service CIDR).
	NATOutgoing bool
}

// Desired is the whole host-side network state of a node.
type Desired struct {
	// GatewayIface is the host side of the node, "gw0" (an OVS internal port
	// created by someone else; Apply fails while it does not exist).
	GatewayIface string
	// NodeAddress is the node's own address in defaultnet, put first on gw0
	// as a /32 and used as the source of the SubNet routes. Nil while it is
	// not allocated yet: gateways and routes are installed without it.
	NodeAddress net.IP
	// Subnets are all SubNets of the cluster.
	Subnets []Subnet
	// ServiceCIDRs are never masqueraded towards. IPv6 entries are ignored.
	ServiceCIDRs []*net.IPNet
	// MTU of gw0; 0 leaves it unchanged.
	MTU int
}

// plan is Desired validated and reduced to what the kernel holds.
type plan struct {
	iface string
	// addrs are gw0's IPv4 addresses in the order they must appear.
	addrs []*net.IPNet
	// primaryPinned is true when addrs[0] (the node address) must be first.
	primaryPinned bool
	// routes are the SubNet destinations, unique, canonical.
	routes []*net.IPNet
	// src is the preferred source of the routes (nil: none).
	src net.IP
	// rules is the nftables content.
	rules ruleset
	mtu   int
}

// newPlan validates d and derives the plan. It is a pure function.
func newPlan(d Desired) (plan, error) {
	var errs []error
	p := plan{iface: d.GatewayIface, mtu: d.MTU}
	if d.GatewayIface == "" || len(d.GatewayIface) >= 16 {
		errs = append(errs, fmt.Errorf("gateway interface name %q is invalid", d.GatewayIface))
	}
	if d.MTU < 0 || (d.MTU > 0 && d.MTU < 68) {
		errs = append(errs, fmt.Errorf("MTU %d is invalid (0 keeps the current MTU, minimum 68)", d.MTU))
	}
	if d.NodeAddress != nil {
		ip := d.NodeAddress.To4()
		if ip == nil {
			errs = append(errs, fmt.Errorf("node address %s is not IPv4", d.NodeAddress))
		} else {
			p.addrs = append(p.addrs, host32(ip))
			p.primaryPinned = true
			p.src = ip
		}
	}
	var all, nat []*net.IPNet
	for _, s := range d.Subnets {
		cidr, err := canonicalV4(s.CIDR)
		if err != nil {
			errs = append(errs, fmt.Errorf("subnet %q: %w", s.Name, err))
			continue
		}
		gw := s.Gateway.To4()
		if gw == nil || !cidr.Contains(gw) {
			errs = append(errs, fmt.Errorf("subnet %q: gateway %v is not an IPv4 address inside %s", s.Name, s.Gateway, cidr))
			continue
		}
		p.addrs = appendUniqueNet(p.addrs, host32(gw))
		p.routes = appendUniqueNet(p.routes, cidr)
		all = append(all, cidr)
		if s.NATOutgoing {
			nat = append(nat, cidr)
		}
	}
	for _, c := range d.ServiceCIDRs {
		if c == nil || c.IP.To4() == nil {
			continue // IPv6 service range of a dual-stack cluster: not ours
		}
		cidr, err := canonicalV4(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("service CIDR: %w", err))
			continue
		}
		all = append(all, cidr)
	}
	p.rules = ruleset{iface: d.GatewayIface, natSources: collapseCIDRs(nat), clusterCIDRs: collapseCIDRs(all)}
	if err := errors.Join(errs...); err != nil {
		return plan{}, err
	}
	return p, nil
}

// canonicalV4 returns n as an IPv4 prefix with its host bits cleared.
func canonicalV4(n *net.IPNet) (*net.IPNet, error) {
	if n == nil {
		return nil, errors.New("missing CIDR")
	}
	ip := n.IP.To4()
	ones, bits := n.Mask.Size()
	if ip == nil || bits != 32 {
		return nil, fmt.Errorf("%s is not an IPv4 CIDR", n)
	}
	mask := net.CIDRMask(ones, 32)
	return &net.IPNet{IP: ip.Mask(mask), Mask: mask}, nil
}

func host32(ip net.IP) *net.IPNet {
	return &net.IPNet{IP: ip.To4(), Mask: net.CIDRMask(32, 32)}
}

func sameNet(a, b *net.IPNet) bool {
	return a.IP.Equal(b.IP) && bytes.Equal(a.Mask, b.Mask)
}

func appendUniqueNet(list []*net.IPNet, n *net.IPNet) []*net.IPNet {
	for _, m := range list {
		if sameNet(m, n) {
			return list
		}
	}
	return append(list, n)
}

// collapseCIDRs returns the canonical IPv4 prefixes sorted, with every prefix
// that lies inside another one dropped, so that no two overlap (an nftables
// interval set rejects overlapping elements).
func collapseCIDRs(in []*net.IPNet) []*net.IPNet {
	s := append([]*net.IPNet(nil), in...)
	sort.Slice(s, func(i, j int) bool {
		if c := bytes.Compare(s[i].IP.To4(), s[j].IP.To4()); c != 0 {
			return c < 0
		}
		oi, _ := s[i].Mask.Size()
		oj, _ := s[j].Mask.Size()
		return oi < oj // the wider prefix first
	})
	var out []*net.IPNet
	for _, n := range s {
		// Sorted by address then width: a prefix overlaps an earlier one
		// only if it is inside the last kept one.
		if len(out) > 0 && out[len(out)-1].Contains(n.IP) {
			continue
		}
		out = append(out, n)
	}
	return out
}
