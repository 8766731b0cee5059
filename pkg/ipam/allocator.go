package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// DefaultInterface is the interface a Request without one is for.
const DefaultInterface = "eth0"

// Options tune an Allocator. The zero value works: every read goes to the
// client.
type Options struct {
	// Cache serves the reads of the common path (the SubNet, the list of
	// IPAMBlocks), typically an informer cache with IndexBlocks' index.
	// Nil reads from APIReader.
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
	// MaxBatch bounds the requests written together (0: no bound; 1 is
	// one write per request, as before group commit).
	MaxBatch int
	// Metrics, if not nil, counts API writes and batch sizes.
	Metrics *Metrics
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
	queues queues
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
	return &Allocator{c: c, cache: o.Cache, api: o.APIReader, opts: o, recent: newRecentWrites(recentTTL, o.Now),
		queues: queues{max: o.MaxBatch}}
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
// again. errUnchanged: the block already says what we want, no write
// needed.
var (
	errRetry     = errors.New("stale view of the blocks")
	errUnchanged = errors.New("unchanged")
)

// Allocate returns the address of req's interface, allocating one if this
// container interface has none yet.
//
// Concurrent requests of one node in one subnet are written together (see
// queues): the call returns once the batch holding it is written. Its
// context only matters while it waits: a request whose context ends before
// its batch starts is never written; once its batch started, it gets the
// batch's outcome (the caller's rollback releases the address if it no
// longer wants it).
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
	o := &op{ctx: ctx, req: &req, sn: sn}
	a.queues.submit(queueKey(req.Node, sn.Name), o, a.runBatch)
	return o.res, o.err
}

// queueKey names the queue of a node's blocks of a subnet.
func queueKey(node, subnet string) string { return node + "/" + subnet }

// allocateRequested gives req its requested address (StaticIP, or one of
// Pool), retrying on a fresh view while the blocks change under it.
func (a *Allocator) allocateRequested(ctx context.Context, sn *Subnet, req Request) (Result, error) {
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
		if req.StaticIP.IsValid() {
			res, err = a.allocateStatic(ctx, sn, blocks, req)
		} else {
			res, err = a.allocateIPPool(ctx, sn, blocks, req)
		}
		if !errors.Is(err, errRetry) {
			return res, err
		}
	}
	return Result{}, a.gaveUp(sn.Name)
}

func (a *Allocator) gaveUp(subnet string) error {
	return newError(ReasonConflict, subnet, "subnet %q: gave up after %d attempts: its blocks keep changing", subnet, a.opts.MaxAttempts)
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

// blocks lists the IPAMBlocks of a subnet (every block when subnet is
// empty), merged with the ones this Allocator wrote or read lately (the
// cache may not have them yet). The blocks are only read (update works on a
// deep copy): the cache's objects are not copied.
func (a *Allocator) blocks(ctx context.Context, subnet string) ([]*v1alpha1.IPAMBlock, error) {
	var items []v1alpha1.IPAMBlock
	if subnet == "" {
		list := &v1alpha1.IPAMBlockList{}
		if err := a.cache.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
			return nil, fmt.Errorf("listing IPAM blocks: %w", err)
		}
		items = list.Items
	} else {
		var err error
		if items, err = ListSubnetBlocks(ctx, a.cache, subnet); err != nil {
			return nil, fmt.Errorf("listing the IPAM blocks of subnet %q: %w", subnet, err)
		}
	}
	out := a.recent.merge(items)
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
		fresh, err := a.put(ctx, cur, false)
		if !errors.Is(err, errStale) {
			return fresh, err
		}
		cur = fresh
	}
	return nil, newError(ReasonConflict, b.Spec.Subnet, "IPAM block %s: gave up after %d conflicting writes", b.Name, a.opts.MaxAttempts)
}

func subnetFull(sn *Subnet) error {
	return &Error{Reason: ReasonSubnetFull, Subnet: sn.Name,
		Message: fmt.Sprintf("subnet %q (%s) is full: all %d allocatable addresses are in use", sn.Name, sn.CIDR, sn.Capacity())}
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
