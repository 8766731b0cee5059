package ipam

import (
	"fmt"
	"math/bits"
	"net/netip"
)

// Pool is the in-memory allocator of one block: it hands out the block's
// addresses lowest first, never one its subnet reserves (network and
// broadcast address, gateway, excludeIPs). It only computes; the caller
// persists the result. A Pool is not safe for concurrent use.
type Pool struct {
	block netip.Prefix
	base  uint32
	// taken has a bit set for every address that is reserved or allocated.
	taken []uint64
	size  int
	free  int
}

// NewPool returns the pool of block, a block of subnet s, with the subnet's
// reserved addresses already taken.
func NewPool(s *Subnet, block netip.Prefix) (*Pool, error) {
	if !block.Addr().Is4() || block.Bits() < s.CIDR.Bits() || !s.CIDR.Contains(block.Addr()) {
		return nil, fmt.Errorf("block %s is not inside subnet %s (%s)", block, s.Name, s.CIDR)
	}
	block = block.Masked()
	n := int(size(block))
	p := &Pool{block: block, base: u32(block.Addr()), taken: make([]uint64, (n+63)/64), size: n, free: n}
	for i := 0; i < n; i++ {
		if s.ReservedReason(addr(p.base+uint32(i))) != "" {
			p.set(i)
		}
	}
	return p, nil
}

// Block returns the pool's range.
func (p *Pool) Block() netip.Prefix { return p.block }

// Free counts the addresses still available.
func (p *Pool) Free() int { return p.free }

// Take returns the lowest free address and marks it allocated; ok is false
// when the block is full.
func (p *Pool) Take() (ip netip.Addr, ok bool) {
	for w, word := range p.taken {
		if word == ^uint64(0) {
			continue
		}
		i := w*64 + bits.TrailingZeros64(^word)
		if i >= p.size {
			break
		}
		p.set(i)
		return addr(p.base + uint32(i)), true
	}
	return netip.Addr{}, false
}

// Use marks ip allocated. It fails if ip is outside the block or already
// taken (allocated or reserved).
func (p *Pool) Use(ip netip.Addr) error {
	i, ok := p.index(ip)
	if !ok {
		return fmt.Errorf("%s is outside block %s", ip, p.block)
	}
	if p.isSet(i) {
		return fmt.Errorf("%s is already taken", ip)
	}
	p.set(i)
	return nil
}

// IsFree reports whether ip is inside the block and neither reserved nor
// allocated.
func (p *Pool) IsFree(ip netip.Addr) bool {
	i, ok := p.index(ip)
	return ok && !p.isSet(i)
}

func (p *Pool) index(ip netip.Addr) (int, bool) {
	if !ip.Is4() || !p.block.Contains(ip) {
		return 0, false
	}
	return int(u32(ip) - p.base), true
}

func (p *Pool) isSet(i int) bool { return p.taken[i/64]&(1<<(i%64)) != 0 }

func (p *Pool) set(i int) {
	if !p.isSet(i) {
		p.taken[i/64] |= 1 << (i % 64)
		p.free--
	}
}
