package ipam

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/keylock"
)

// DefaultInterface is the interface a Request without one is for.
const DefaultInterface = "eth0"

// Options tune an Allocator. The zero value works: every read goes to the
// client.
type Options struct {
	// Cache serves the reads of the common path (the SubNet, the list of
	// IPAMBlocks), typically an informer cache. Nil reads from APIReader.
	Cache client.Reader
	// APIReader reads straight from the API server; it is used after a
	// write conflict and when the cache does not know an object yet. Nil
	// uses the client (which must then not be cache-backed).
	APIReader client.Reader
	// DefaultSubnet is used for requests that name no subnet.
	DefaultSubnet string
	// MaxAttempts bounds the retries after conflicts (default 16).
	MaxAttempts int
	// Now is the clock stamped on allocations (default time.Now).
	Now func() time.Time
}

// Allocator hands out and takes back addresses. It keeps no state that
// matters for correctness: any number of Allocators on any number of nodes
// may work on the same subnets at once. It is safe for concurrent use.
type Allocator struct {
	c      client.Client
	cache  client.Reader
	api    client.Reader
	opts   Options
	recent *recentWrites
	nodes  keylock.Locks
}

// New returns an Allocator writing through c.
func New(c client.Client, o Options) *Allocator {
	if o.APIReader == nil {
		o.APIReader = c
	}
	if o.Cache == nil {
		o.Cache = o.APIReader
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Allocator{c: c, cache: o.Cache, api: o.APIReader, opts: o, recent: newRecentWrites(time.Minute, o.Now)}
}

// Request asks for the address of one interface of one pod.
type Request struct {
	// Subnet names the SubNet; empty means Options.DefaultSubnet.
	Subnet string
	// Node the pod runs on (required): addresses come from its blocks.
	Node string
	// Namespace, Pod and PodUID identify the pod (for humans and the
	// garbage collector; the node's own address has no pod).
	Namespace, Pod, PodUID string
	// ContainerID and Interface key the allocation (ContainerID required;
	// Interface defaults to DefaultInterface): a second request with the
	// same key gets the same address.
	ContainerID, Interface string
	// StaticIP, if valid, is the address the pod must get.
	StaticIP netip.Addr
	// Pool, if not empty (and StaticIP is not set), lists the addresses the
	// pod may get, in order of preference: it gets the first one no other
	// live pod holds (see ParseIPPool).
	Pool []netip.Addr
}

// Result is the address given to a pod interface.
type Result struct {
	// IP is the address.
	IP netip.Addr
	// Prefix is IP with the subnet's prefix length (what goes on eth0).
	Prefix netip.Prefix
	// Gateway is the subnet's gateway.
	Gateway netip.Addr
	// Subnet is the SubNet's name.
	Subnet string
	// Block is the name of the IPAMBlock recording the allocation.
	Block string
}

// errRetry: the view of the blocks the attempt worked from is stale; list
// again. errBlockFull: no free address in this block. errUnchanged: the
// block already says what we want, no write needed.
var (
	errRetry     = errors.New("stale view of the blocks")
	errBlockFull = errors.New("block full")
	errUnchanged = errors.New("unchanged")
)

// Allocate returns the address of req's interface, allocating one if this
// container interface has none yet.
func (a *Allocator) Allocate(ctx context.Context, req Request) (Result, error) {
	if req.Subnet == "" {
		req.Subnet = a.opts.DefaultSubnet
	}
	if req.Interface == "" {
		req.Interface = DefaultInterface
	}
	if err := req.validate(); err != nil {
		return Result{}, err
	}
	sn, err := a.subnet(ctx, req.Subnet)
	if err != nil {
		return Result{}, err
	}
	// Concurrent requests of one node would all pick the same free address
	// of the same block and all but one would conflict: let them write one
	// after the other instead (each write takes milliseconds).
	unlock, err := a.nodes.Lock(ctx, req.Node+"/"+sn.Name)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	for attempt := 0; attempt < a.opts.MaxAttempts; attempt++ {
		blocks, err := a.blocks(ctx, sn.Name)
		if err != nil {
			return Result{}, err
		}
		blocks = insideSubnet(sn, blocks)
		if res, ok := existing(sn, blocks, req); ok {
			return res, nil
		}
		var res Result
		switch {
		case req.StaticIP.IsValid():
			res, err = a.allocateStatic(ctx, sn, blocks, req)
		case len(req.Pool) > 0:
			res, err = a.allocateIPPool(ctx, sn, blocks, req)
		default:
			res, err = a.allocateDynamic(ctx, sn, blocks, req)
		}
		if !errors.Is(err, errRetry) {
			return res, err
		}
	}
	return Result{}, newError(ReasonConflict, sn.Name, "subnet %q: gave up after %d attempts: its blocks keep changing", sn.Name, a.opts.MaxAttempts)
}

func (r Request) validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"subnet", r.Subnet}, {"node", r.Node}, {"containerID", r.ContainerID}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return newError(ReasonInvalidRequest, r.Subnet, "IPAM request for %s/%s lacks %v", r.Namespace, r.Pod, missing)
	}
	if r.StaticIP.IsValid() && !r.StaticIP.Is4() {
		return newError(ReasonInvalidRequest, r.Subnet, "static IP %s is not an IPv4 address", r.StaticIP)
	}
	for _, ip := range r.Pool {
		if !ip.Is4() {
			return newError(ReasonInvalidRequest, r.Subnet, "ip pool entry %s is not an IPv4 address", ip)
		}
	}
	return nil
}

func (r Request) allocation(node string, static bool, now time.Time) v1alpha1.Allocation {
	return v1alpha1.Allocation{
		Namespace: r.Namespace, Pod: r.Pod, PodUID: r.PodUID,
		ContainerID: r.ContainerID, Interface: r.Interface,
		Node: node, Static: static, Created: metav1.NewTime(now),
	}
}

func result(sn *Subnet, block string, ip netip.Addr) Result {
	return Result{IP: ip, Prefix: netip.PrefixFrom(ip, sn.CIDR.Bits()), Gateway: sn.Gateway, Subnet: sn.Name, Block: block}
}

// existing finds the address already allocated to req's key.
func existing(sn *Subnet, blocks []*v1alpha1.IPAMBlock, req Request) (Result, bool) {
	for _, b := range blocks {
		if ip, ok := findByKey(b, req.ContainerID, req.Interface); ok {
			if addr, err := netip.ParseAddr(ip); err == nil {
				return result(sn, b.Name, addr), true
			}
		}
	}
	return Result{}, false
}

// subnet reads and parses a SubNet, from the cache first and from the API
// when the cache does not know it (yet).
func (a *Allocator) subnet(ctx context.Context, name string) (*Subnet, error) {
	obj := &v1alpha1.SubNet{}
	err := a.cache.Get(ctx, client.ObjectKey{Name: name}, obj)
	if apierrors.IsNotFound(err) && a.cache != a.api {
		err = a.api.Get(ctx, client.ObjectKey{Name: name}, obj)
	}
	if apierrors.IsNotFound(err) {
		return nil, &Error{Reason: ReasonSubnetNotFound, Subnet: name, Message: fmt.Sprintf("subnet %q does not exist", name)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading subnet %q: %w", name, err)
	}
	if obj.DeletionTimestamp != nil {
		return nil, newError(ReasonInvalidSubnet, name, "subnet %q is being deleted: no new addresses are given from it", name)
	}
	all := &v1alpha1.SubNetList{}
	if err := a.cache.List(ctx, all, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing subnets: %w", err)
	}
	if other := Overlap(obj, all.Items); other != nil {
		return nil, newError(ReasonInvalidSubnet, name, "%s", OverlapMessage(obj, other))
	}
	return ParseSubnet(obj)
}

// blocks lists the IPAMBlocks of a subnet, merged with the ones this
// Allocator wrote or read lately (the cache may not have them yet).
func (a *Allocator) blocks(ctx context.Context, subnet string) ([]*v1alpha1.IPAMBlock, error) {
	list := &v1alpha1.IPAMBlockList{}
	// The blocks are only read (update works on a deep copy): skip the
	// cache's copy of every block on every allocation.
	if err := a.cache.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing IPAM blocks: %w", err)
	}
	out := a.recent.merge(list.Items)
	if subnet == "" {
		return out, nil
	}
	n := 0
	for _, b := range out {
		if b.Spec.Subnet == subnet {
			out[n] = b
			n++
		}
	}
	return out[:n], nil
}

func (a *Allocator) allocateDynamic(ctx context.Context, sn *Subnet, blocks []*v1alpha1.IPAMBlock, req Request) (Result, error) {
	var own, others []*v1alpha1.IPAMBlock
	var claimed []netip.Prefix
	for _, b := range blocks {
		p, err := blockPrefix(b)
		if err != nil {
			continue
		}
		claimed = append(claimed, p)
		if b.Spec.Node == req.Node {
			own = append(own, b)
		} else {
			others = append(others, b)
		}
	}
	sortBlocks(own)
	for _, b := range own {
		if res, err := a.takeFrom(ctx, sn, b, req); !errors.Is(err, errBlockFull) {
			return res, err
		}
	}
	if res, err := a.claim(ctx, sn, claimed, req); !errors.Is(err, errBlockFull) {
		return res, err
	}
	sortBlocks(others)
	for _, b := range others {
		if res, err := a.takeFrom(ctx, sn, b, req); !errors.Is(err, errBlockFull) {
			return res, err
		}
	}
	return Result{}, &Error{Reason: ReasonSubnetFull, Subnet: sn.Name,
		Message: fmt.Sprintf("subnet %q (%s) is full: all %d allocatable addresses are in use", sn.Name, sn.CIDR, sn.Capacity())}
}

// takeFrom allocates the lowest free address of block b.
func (a *Allocator) takeFrom(ctx context.Context, sn *Subnet, b *v1alpha1.IPAMBlock, req Request) (Result, error) {
	var got string
	_, err := a.update(ctx, b, func(cur *v1alpha1.IPAMBlock) error {
		if ip, ok := findByKey(cur, req.ContainerID, req.Interface); ok {
			got = ip
			return errUnchanged
		}
		pool, err := PoolOf(sn, cur)
		if err != nil {
			return err
		}
		ip, ok := pool.Take()
		if !ok {
			return errBlockFull
		}
		got = ip.String()
		setAllocation(cur, got, req.allocation(req.Node, false, a.opts.Now()))
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return result(sn, b.Name, netip.MustParseAddr(got)), nil
}

// claim creates a new block for req.Node holding req's address. Blocks are
// tried from a point derived from the node's name, so that nodes claiming
// at the same time rarely race for the same block.
func (a *Allocator) claim(ctx context.Context, sn *Subnet, claimed []netip.Prefix, req Request) (Result, error) {
	n := sn.BlockCount()
	h := fnv.New32a()
	_, _ = h.Write([]byte(req.Node))
	start := int(h.Sum32() % uint32(n))
	for k := 0; k < n; k++ {
		p := sn.BlockAt((start + k) % n)
		if overlapsAny(p, claimed) {
			continue
		}
		pool, err := NewPool(sn, p)
		if err != nil {
			return Result{}, err
		}
		ip, ok := pool.Take()
		if !ok {
			continue // only reserved or excluded addresses
		}
		res, err := a.create(ctx, sn, p, ip, req, false)
		if errors.Is(err, errBlockFull) {
			claimed = append(claimed, p)
			continue
		}
		return res, err
	}
	return Result{}, errBlockFull
}

// create claims block p for req.Node with ip allocated to req inside it.
// AlreadyExists records the block as seen and returns errBlockFull for a
// block owned by another node (try the next one), errRetry for a block of
// req.Node the cache did not show yet.
func (a *Allocator) create(ctx context.Context, sn *Subnet, p netip.Prefix, ip netip.Addr, req Request, static bool) (Result, error) {
	b := newBlock(sn.Name, p, req.Node)
	b.Spec.Allocations = map[string]v1alpha1.Allocation{ip.String(): req.allocation(req.Node, static, a.opts.Now())}
	err := a.c.Create(ctx, b)
	if err == nil {
		a.recent.put(b)
		return result(sn, b.Name, ip), nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return Result{}, fmt.Errorf("claiming IPAM block %s: %w", b.Name, err)
	}
	cur := &v1alpha1.IPAMBlock{}
	if err := a.api.Get(ctx, client.ObjectKeyFromObject(b), cur); err != nil {
		if apierrors.IsNotFound(err) {
			return Result{}, errRetry // deleted in between
		}
		return Result{}, fmt.Errorf("reading IPAM block %s: %w", b.Name, err)
	}
	a.recent.put(cur)
	if cur.Spec.Node == req.Node || static {
		return Result{}, errRetry
	}
	return Result{}, errBlockFull
}

// update applies fn to a copy of b and writes the result with b's
// resourceVersion. On a conflict it reads the block again from the API and
// reapplies fn. fn returns errUnchanged to finish without writing, or any
// other error to abort.
func (a *Allocator) update(ctx context.Context, b *v1alpha1.IPAMBlock, fn func(*v1alpha1.IPAMBlock) error) (*v1alpha1.IPAMBlock, error) {
	cur := b.DeepCopy()
	for i := 0; i < a.opts.MaxAttempts; i++ {
		if err := fn(cur); err != nil {
			if errors.Is(err, errUnchanged) {
				return cur, nil
			}
			return nil, err
		}
		err := a.c.Update(ctx, cur)
		if err == nil {
			a.recent.put(cur)
			return cur, nil
		}
		switch {
		case apierrors.IsNotFound(err):
			a.recent.drop(b.Name)
			return nil, errRetry
		case !apierrors.IsConflict(err):
			return nil, fmt.Errorf("updating IPAM block %s: %w", b.Name, err)
		}
		cur = &v1alpha1.IPAMBlock{}
		if err := a.api.Get(ctx, client.ObjectKeyFromObject(b), cur); err != nil {
			if apierrors.IsNotFound(err) {
				a.recent.drop(b.Name)
				return nil, errRetry
			}
			return nil, fmt.Errorf("reading IPAM block %s: %w", b.Name, err)
		}
		a.recent.put(cur)
	}
	return nil, newError(ReasonConflict, b.Spec.Subnet, "IPAM block %s: gave up after %d conflicting writes", b.Name, a.opts.MaxAttempts)
}

func setAllocation(b *v1alpha1.IPAMBlock, ip string, al v1alpha1.Allocation) {
	if b.Spec.Allocations == nil {
		b.Spec.Allocations = map[string]v1alpha1.Allocation{}
	}
	b.Spec.Allocations[ip] = al
}

// insideSubnet drops the blocks that lie outside sn's CIDR: left by an
// earlier SubNet of the same name (the controller's GC deletes them).
func insideSubnet(sn *Subnet, blocks []*v1alpha1.IPAMBlock) []*v1alpha1.IPAMBlock {
	out := blocks[:0:0]
	for _, b := range blocks {
		if p, err := blockPrefix(b); err == nil && (p.Bits() < sn.CIDR.Bits() || !sn.CIDR.Contains(p.Addr())) {
			continue
		}
		out = append(out, b)
	}
	return out
}
