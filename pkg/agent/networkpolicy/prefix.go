package networkpolicy

import "net/netip"

// subtractPrefixes returns cidr minus every prefix of except, as the
// smallest list of disjoint prefixes in address order. Prefixes of another
// family than cidr's are ignored.
func subtractPrefixes(cidr netip.Prefix, except []netip.Prefix) []netip.Prefix {
	cidr = cidr.Masked()
	var ex []netip.Prefix
	for _, e := range except {
		if e.IsValid() && e.Addr().BitLen() == cidr.Addr().BitLen() && e.Overlaps(cidr) {
			ex = append(ex, e.Masked())
		}
	}
	return subtract(cidr, ex, nil)
}

func subtract(p netip.Prefix, ex []netip.Prefix, out []netip.Prefix) []netip.Prefix {
	var inside []netip.Prefix
	for _, e := range ex {
		if !e.Overlaps(p) {
			continue
		}
		if e.Bits() <= p.Bits() { // e contains p
			return out
		}
		inside = append(inside, e)
	}
	if len(inside) == 0 {
		return append(out, p)
	}
	lo, hi := halves(p)
	out = subtract(lo, inside, out)
	return subtract(hi, inside, out)
}

// halves splits p (not a host prefix) into its two sub-prefixes.
func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits() + 1
	lo := netip.PrefixFrom(p.Addr(), bits)
	a := p.Addr().AsSlice()
	i := (bits - 1) / 8
	a[i] |= 0x80 >> ((bits - 1) % 8)
	hiAddr, _ := netip.AddrFromSlice(a)
	return lo, netip.PrefixFrom(hiAddr, bits)
}
