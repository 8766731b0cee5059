package nodenet

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/kubefay/kubefay/pkg/ipam"
)

// Desired is the whole host-side network state of a node.
type Desired struct {
	// GatewayIface is the host side of the node, "gw0" (an OVS internal port
	// created by someone else; Apply fails while it does not exist).
	GatewayIface string
	// NodeAddress is the node's own address in defaultnet, put first on gw0
	// as a /32 and used as the source of the SubNet routes. Invalid (zero)
	// while it is not allocated yet: gateways and routes are installed
	// without it.
	NodeAddress netip.Addr
	// Subnets are all SubNets of the cluster. Each one's CIDR is routed to
	// gw0, its Gateway put on gw0 as a /32, and with NATOutgoing its traffic
	// to destinations outside the cluster (neither a SubNet nor a service
	// CIDR) is masqueraded. Name is for messages only.
	Subnets []ipam.Subnet
	// ServiceCIDRs are never masqueraded towards. IPv6 entries are ignored.
	ServiceCIDRs []netip.Prefix
	// MTU of gw0; 0 leaves it unchanged.
	MTU int
}

// plan is Desired validated and reduced to what the kernel holds.
type plan struct {
	iface string
	// addrs are gw0's IPv4 addresses in the order they must appear.
	addrs []netip.Prefix
	// primaryPinned is true when addrs[0] (the node address) must be first.
	primaryPinned bool
	// routes are the SubNet destinations, unique, canonical.
	routes []netip.Prefix
	// src is the preferred source of the routes (invalid: none).
	src netip.Addr
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
	if d.NodeAddress.IsValid() {
		ip := d.NodeAddress.Unmap()
		if !ip.Is4() {
			errs = append(errs, fmt.Errorf("node address %s is not IPv4", d.NodeAddress))
		} else {
			p.addrs = append(p.addrs, netip.PrefixFrom(ip, 32))
			p.primaryPinned = true
			p.src = ip
		}
	}
	var all, nat []netip.Prefix
	for _, s := range d.Subnets {
		cidr, err := canonicalV4(s.CIDR)
		if err != nil {
			errs = append(errs, fmt.Errorf("subnet %q: %w", s.Name, err))
			continue
		}
		gw := s.Gateway.Unmap()
		if !gw.Is4() || !cidr.Contains(gw) {
			errs = append(errs, fmt.Errorf("subnet %q: gateway %v is not an IPv4 address inside %s", s.Name, s.Gateway, cidr))
			continue
		}
		p.addrs = appendUnique(p.addrs, netip.PrefixFrom(gw, 32))
		p.routes = appendUnique(p.routes, cidr)
		all = append(all, cidr)
		if s.NATOutgoing {
			nat = append(nat, cidr)
		}
	}
	for _, c := range d.ServiceCIDRs {
		if !c.Addr().Unmap().Is4() {
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
func canonicalV4(n netip.Prefix) (netip.Prefix, error) {
	if !n.IsValid() {
		return netip.Prefix{}, errors.New("missing CIDR")
	}
	a := n.Addr().Unmap()
	if !a.Is4() || n.Bits() > 32 {
		return netip.Prefix{}, fmt.Errorf("%s is not an IPv4 CIDR", n)
	}
	return netip.PrefixFrom(a, n.Bits()).Masked(), nil
}

func appendUnique(list []netip.Prefix, n netip.Prefix) []netip.Prefix {
	if slices.Contains(list, n) {
		return list
	}
	return append(list, n)
}

// collapseCIDRs returns the canonical IPv4 prefixes sorted, with every prefix
// that lies inside another one dropped, so that no two overlap (an nftables
// interval set rejects overlapping elements).
func collapseCIDRs(in []netip.Prefix) []netip.Prefix {
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits() // the wider prefix first
	})
	var out []netip.Prefix
	for _, n := range s {
		// Sorted by address then width: a prefix overlaps an earlier one
		// only if it is inside the last kept one.
		if len(out) > 0 && out[len(out)-1].Contains(n.Addr()) {
			continue
		}
		out = append(out, n)
	}
	return out
}
