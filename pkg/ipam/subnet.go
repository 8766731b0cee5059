package ipam

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// IPRange is an inclusive range of IPv4 addresses.
type IPRange struct {
	First, Last netip.Addr
}

// Contains reports whether ip is inside the range.
func (r IPRange) Contains(ip netip.Addr) bool {
	return ip.Is4() && u32(r.First) <= u32(ip) && u32(ip) <= u32(r.Last)
}

// ParseIPRange parses "a.b.c.d" or "a.b.c.d..e.f.g.h" (inclusive).
func ParseIPRange(s string) (IPRange, error) {
	first, last, isRange := strings.Cut(strings.TrimSpace(s), "..")
	a, err := netip.ParseAddr(strings.TrimSpace(first))
	if err != nil || !a.Is4() {
		return IPRange{}, fmt.Errorf("%q is not an IPv4 address or range a..b", s)
	}
	if !isRange {
		return IPRange{a, a}, nil
	}
	b, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil || !b.Is4() {
		return IPRange{}, fmt.Errorf("%q is not an IPv4 address or range a..b", s)
	}
	if u32(b) < u32(a) {
		return IPRange{}, fmt.Errorf("range %q ends before it starts", s)
	}
	return IPRange{a, b}, nil
}

// Subnet is the parsed view of a SubNet that IPAM works with.
type Subnet struct {
	// Name of the SubNet object.
	Name string
	// CIDR in canonical (masked) form.
	CIDR netip.Prefix
	// Gateway: spec.gateway, or the first address after the network address.
	Gateway netip.Addr
	// BlockBits is the prefix length of the subnet's blocks (never shorter
	// than CIDR's).
	BlockBits int
	// Excluded holds spec.excludeIPs clipped to CIDR, sorted and merged.
	Excluded []IPRange
	// NATOutgoing is spec.natOutgoing (default true): pods' traffic leaving
	// the cluster is masqueraded to the node's address.
	NATOutgoing bool
	// Private is spec.private: new connections into the subnet only from
	// itself, AllowFrom and the node.
	Private bool
	// AllowFrom holds spec.allowSubnets, masked. Entries that are not CIDRs
	// (the API refuses them; older objects may hold some) are left out and
	// listed in IgnoredAllowSubnets for the caller to report.
	AllowFrom           []netip.Prefix
	IgnoredAllowSubnets []string
}

// DefaultGateway returns the first address after p's network address.
func DefaultGateway(p netip.Prefix) netip.Addr {
	return p.Masked().Addr().Next()
}

// ParseSubnet validates a SubNet and returns its parsed view. The API server
// already validates SubNets; this guards against objects written before
// validation existed or by another client.
func ParseSubnet(sn *v1alpha1.SubNet) (*Subnet, error) {
	bad := func(format string, a ...any) error {
		return newError(ReasonInvalidSubnet, sn.Name, "subnet %q: %s", sn.Name, fmt.Sprintf(format, a...))
	}
	if v := sn.Spec.IPVersion; v != "" && v != v1alpha1.IPVersion4 {
		return nil, bad("ipVersion %q is not supported (only %q)", v, v1alpha1.IPVersion4)
	}
	p, err := netip.ParsePrefix(sn.Spec.CIDR)
	if err != nil || !p.Addr().Is4() {
		return nil, bad("cidr %q is not an IPv4 CIDR", sn.Spec.CIDR)
	}
	s := &Subnet{Name: sn.Name, CIDR: p.Masked(), BlockBits: int(sn.Spec.BlockSize)}
	if s.BlockBits == 0 {
		s.BlockBits = v1alpha1.DefaultBlockSize
	}
	if s.BlockBits > 32 || s.BlockBits < 1 {
		return nil, bad("blockSize %d is not a prefix length", s.BlockBits)
	}
	if s.BlockBits < p.Bits() {
		s.BlockBits = p.Bits()
	}
	s.Gateway = DefaultGateway(s.CIDR)
	if sn.Spec.Gateway != "" {
		if s.Gateway, err = netip.ParseAddr(sn.Spec.Gateway); err != nil {
			return nil, bad("gateway %q is not an IP address", sn.Spec.Gateway)
		}
	}
	if !s.CIDR.Contains(s.Gateway) {
		return nil, bad("gateway %s is outside cidr %s", s.Gateway, s.CIDR)
	}
	for _, e := range sn.Spec.ExcludeIPs {
		r, err := ParseIPRange(e)
		if err != nil {
			return nil, bad("excludeIPs: %v", err)
		}
		if r, ok := clip(r, s.CIDR); ok {
			s.Excluded = append(s.Excluded, r)
		}
	}
	s.Excluded = merge(s.Excluded)
	s.NATOutgoing = sn.Spec.NATOutgoing == nil || *sn.Spec.NATOutgoing
	s.Private = sn.Spec.Private
	for _, a := range sn.Spec.AllowSubnets {
		if p, err := netip.ParsePrefix(a); err == nil {
			s.AllowFrom = append(s.AllowFrom, p.Masked())
		} else {
			s.IgnoredAllowSubnets = append(s.IgnoredAllowSubnets, a)
		}
	}
	return s, nil
}

// bounds returns the subnet's first and last address.
func (s *Subnet) bounds() (first, last uint32) {
	first = u32(s.CIDR.Addr())
	return first, first + uint32(size(s.CIDR)-1)
}

// ReservedReason tells why ip can never be handed out dynamically or
// statically, or returns "" if it can be. Addresses outside CIDR are
// reported as such.
func (s *Subnet) ReservedReason(ip netip.Addr) Reason {
	if !ip.Is4() || !s.CIDR.Contains(ip) {
		return ReasonIPOutOfRange
	}
	if ip == s.Gateway || s.isNetworkOrBroadcast(u32(ip)) {
		return ReasonIPReserved
	}
	if s.IsExcluded(ip) {
		return ReasonIPExcluded
	}
	return ""
}

// IsExcluded reports whether ip is in one of the subnet's excludeIPs.
func (s *Subnet) IsExcluded(ip netip.Addr) bool {
	i := sort.Search(len(s.Excluded), func(i int) bool { return u32(s.Excluded[i].Last) >= u32(ip) })
	return i < len(s.Excluded) && s.Excluded[i].Contains(ip)
}

func (s *Subnet) isNetworkOrBroadcast(v uint32) bool {
	if s.CIDR.Bits() >= 31 {
		return false
	}
	first, last := s.bounds()
	return v == first || v == last
}

// Capacity counts the addresses that can be allocated: the CIDR minus
// network and broadcast address, gateway and excluded addresses.
func (s *Subnet) Capacity() int64 {
	n := size(s.CIDR)
	for _, r := range s.Excluded {
		n -= int64(u32(r.Last)-u32(r.First)) + 1
	}
	specials := []netip.Addr{s.Gateway}
	if s.CIDR.Bits() < 31 {
		first, last := s.bounds()
		specials = append(specials, addr(first), addr(last))
	}
	seen := map[netip.Addr]bool{}
	for _, a := range specials {
		if !seen[a] && !s.IsExcluded(a) {
			n--
		}
		seen[a] = true
	}
	return n
}

// BlockCount is the number of blocks the subnet is cut into.
func (s *Subnet) BlockCount() int {
	return 1 << (s.BlockBits - s.CIDR.Bits())
}

// BlockAt returns the i-th block (0 <= i < BlockCount).
func (s *Subnet) BlockAt(i int) netip.Prefix {
	return netip.PrefixFrom(addr(u32(s.CIDR.Addr())+uint32(i)<<(32-s.BlockBits)), s.BlockBits)
}

// BlockFor returns the block holding ip; ip must be inside CIDR.
func (s *Subnet) BlockFor(ip netip.Addr) netip.Prefix {
	p, _ := ip.Prefix(s.BlockBits)
	return p
}

func clip(r IPRange, p netip.Prefix) (IPRange, bool) {
	first, last := u32(p.Addr()), u32(p.Addr())+uint32(size(p)-1)
	a, b := max(u32(r.First), first), min(u32(r.Last), last)
	if a > b {
		return IPRange{}, false
	}
	return IPRange{addr(a), addr(b)}, true
}

func merge(rs []IPRange) []IPRange {
	if len(rs) < 2 {
		return rs
	}
	sort.Slice(rs, func(i, j int) bool { return u32(rs[i].First) < u32(rs[j].First) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if uint64(u32(r.First)) <= uint64(u32(last.Last))+1 {
			if u32(r.Last) > u32(last.Last) {
				last.Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func size(p netip.Prefix) int64 { return int64(1) << (32 - p.Bits()) }

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
