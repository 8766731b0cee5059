package ipam

import (
	"hash/fnv"
	"net/netip"
	"time"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// plan is one attempt at a batch: the blocks as listed, the copies the
// batch changes or creates, and the ops whose outcome each write decides.
type plan struct {
	now     func() time.Time
	view    map[string]*v1alpha1.IPAMBlock // by name; a changed block is the batch's copy
	changed map[string]bool
	isNew   map[string]bool
	order   []string         // changed and new blocks, in the order they were touched
	carry   map[string][]*op // block name -> ops waiting for its write
	owner   map[allocKey]placed
}

// allocKey is what an allocation is asked for by; placed is where it is.
type (
	allocKey struct{ containerID, iface string }
	placed   struct {
		block string
		ip    netip.Addr
	}
)

func newPlan(blocks []*v1alpha1.IPAMBlock, now func() time.Time) *plan {
	p := &plan{now: now, view: map[string]*v1alpha1.IPAMBlock{}, changed: map[string]bool{}, isNew: map[string]bool{},
		carry: map[string][]*op{}}
	for _, b := range blocks {
		p.view[b.Name] = b
	}
	return p
}

// edit returns the batch's copy of b, making it on first use.
func (p *plan) edit(b *v1alpha1.IPAMBlock) *v1alpha1.IPAMBlock {
	if p.changed[b.Name] || p.isNew[b.Name] {
		return p.view[b.Name]
	}
	c := b.DeepCopy()
	p.view[b.Name] = c
	p.changed[b.Name] = true
	p.order = append(p.order, b.Name)
	return c
}

func (p *plan) create(b *v1alpha1.IPAMBlock) {
	p.view[b.Name] = b
	p.isNew[b.Name] = true
	p.order = append(p.order, b.Name)
}

// release removes what o selects from its block. An op that frees nothing
// is done without a write.
func (p *plan) release(o *op) {
	o.freed, o.err = nil, nil
	b, ok := p.view[o.block.Name]
	if !ok || (!p.changed[b.Name] && newer(o.block, b)) {
		b = o.block // the cache has not seen the caller's copy yet
	}
	var freed []string
	for ip, al := range b.Spec.Allocations {
		if o.match(ip, al) {
			freed = append(freed, ip)
		}
	}
	if len(freed) == 0 {
		return
	}
	cur := p.edit(b)
	for _, ip := range freed {
		delete(cur.Spec.Allocations, ip)
	}
	o.freed = freed
	p.carry[b.Name] = append(p.carry[b.Name], o)
}

// allocate gives o the address its key already has, or a new one from f.
func (p *plan) allocate(f *filler, o *op) {
	o.res, o.err = Result{}, nil
	req := o.req
	key := allocKey{req.ContainerID, req.Interface}
	if p.owner == nil {
		p.owner = f.index(p)
	}
	if at, ok := p.owner[key]; ok {
		o.res = result(f.sn, at.block, at.ip)
		if p.changed[at.block] || p.isNew[at.block] {
			p.carry[at.block] = append(p.carry[at.block], o) // its block is written now: wait for it
		}
		return
	}
	b, ip, ok := f.take(p)
	if !ok {
		o.err = subnetFull(f.sn)
		return
	}
	setAllocation(b, ip.String(), req.allocation(req.Node, false, p.now()))
	p.owner[key] = placed{b.Name, ip}
	o.res = result(f.sn, b.Name, ip)
	p.carry[b.Name] = append(p.carry[b.Name], o)
}

// filler hands out the free addresses of a subnet to a node's pods: from
// the node's own blocks lowest first, then from blocks it claims, then
// from other nodes' blocks.
type filler struct {
	sn      *Subnet
	node    string
	blocks  []*v1alpha1.IPAMBlock // inside sn: own blocks, nil (claim), others
	next    int
	claimed []netip.Prefix
	tried   int // blocks of sn tried for a claim
	cur     *v1alpha1.IPAMBlock
	pool    *Pool
}

func newFiller(sn *Subnet, node string, blocks []*v1alpha1.IPAMBlock) *filler {
	f := &filler{sn: sn, node: node}
	var own, others []*v1alpha1.IPAMBlock
	for _, b := range insideSubnet(sn, blocks) {
		p, err := blockPrefix(b)
		if err != nil {
			continue
		}
		f.claimed = append(f.claimed, p)
		if b.Spec.Node == node {
			own = append(own, b)
		} else {
			others = append(others, b)
		}
	}
	sortBlocks(own)
	sortBlocks(others)
	f.blocks = append(append(own, nil), others...)
	return f
}

// index maps the keys allocated in the subnet's blocks to their address.
func (f *filler) index(p *plan) map[allocKey]placed {
	m := map[allocKey]placed{}
	for _, b := range f.blocks {
		if b == nil {
			continue
		}
		for s, al := range p.view[b.Name].Spec.Allocations {
			if ip, err := netip.ParseAddr(s); err == nil {
				m[allocKey{al.ContainerID, al.Interface}] = placed{b.Name, ip}
			}
		}
	}
	return m
}

// take allocates the next free address; it returns the batch's copy of the
// block holding it.
func (f *filler) take(p *plan) (*v1alpha1.IPAMBlock, netip.Addr, bool) {
	for {
		if f.pool != nil {
			if ip, ok := f.pool.Take(); ok {
				f.cur = p.edit(f.cur)
				return f.cur, ip, true
			}
		}
		if !f.advance(p) {
			return nil, netip.Addr{}, false
		}
	}
}

// advance moves to the next block with a free address.
func (f *filler) advance(p *plan) bool {
	for f.next < len(f.blocks) {
		b := f.blocks[f.next]
		if b == nil {
			if f.claim(p) {
				return true
			}
			f.next++
			continue
		}
		f.next++
		b = p.view[b.Name]
		if pool, err := PoolOf(f.sn, b); err == nil && pool.Free() > 0 {
			f.cur, f.pool = b, pool
			return true
		}
	}
	return false
}

// claim plans a new block for the node. Blocks are tried from a point
// derived from the node's name, so that nodes claiming at the same time
// rarely race for the same block.
func (f *filler) claim(p *plan) bool {
	n := f.sn.BlockCount()
	h := fnv.New32a()
	_, _ = h.Write([]byte(f.node))
	start := int(h.Sum32() % uint32(n))
	for ; f.tried < n; f.tried++ {
		pfx := f.sn.BlockAt((start + f.tried) % n)
		if overlapsAny(pfx, f.claimed) {
			continue
		}
		pool, err := NewPool(f.sn, pfx)
		if err != nil || pool.Free() == 0 {
			continue // only reserved or excluded addresses
		}
		f.claimed = append(f.claimed, pfx)
		f.cur, f.pool = newBlock(f.sn.Name, pfx, f.node), pool
		p.create(f.cur)
		return true
	}
	return false
}
