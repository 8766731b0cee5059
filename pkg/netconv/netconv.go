// Package netconv converts between net/netip, which kubefay uses, and the
// net.IP and net.IPNet that netlink and the CNI result types take.
package netconv

import (
	"net"
	"net/netip"
)

// IPNet returns p as a net.IPNet, host bits kept (an interface address).
func IPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Prefix returns n as a prefix, IPv4-mapped forms as IPv4; invalid when n is
// nil or its mask is not a prefix length.
func Prefix(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.Prefix{}
	}
	ones, bits := n.Mask.Size()
	a := Addr(n.IP)
	if a.Is4() && bits == 128 {
		ones -= 96
	}
	if bits == 0 || ones < 0 {
		return netip.Prefix{}
	}
	return netip.PrefixFrom(a, ones)
}

// Addr returns ip as an address, IPv4-mapped forms as IPv4; invalid when ip
// is nil or malformed.
func Addr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
