package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// What a requested address is called in messages.
const (
	wantStatic = "static IP"
	wantPool   = "ip pool entry"
)

// allocateStatic gives req.StaticIP to req (see claimIP).
func (a *Allocator) allocateStatic(ctx context.Context, sn *Subnet, blocks []*v1alpha1.IPAMBlock, req Request) (Result, error) {
	if err := checkRequested(sn, req.StaticIP, wantStatic); err != nil {
		return Result{}, err
	}
	return a.claimIP(ctx, sn, blocks, req, req.StaticIP, wantStatic)
}

// claimIP gives ip to req, in whichever block holds it (the block of
// another node if need be: the allocation records the node the pod lives
// on), claiming that block for req.Node if nobody has. An address held by
// another pod is taken over when that pod is gone (see
// holderAlive), or when it is the same pod (a new sandbox, or a new pod of
// the same name); otherwise it is a ReasonIPInUse error naming the holder.
func (a *Allocator) claimIP(ctx context.Context, sn *Subnet, blocks []*v1alpha1.IPAMBlock, req Request, ip netip.Addr, what string) (Result, error) {
	var claimed []netip.Prefix
	for _, b := range blocks {
		p, err := blockPrefix(b)
		if err != nil {
			continue
		}
		claimed = append(claimed, p)
		if !p.Contains(ip) {
			continue
		}
		key := ip.String()
		_, err = a.update(ctx, b, func(cur *v1alpha1.IPAMBlock) error {
			if held, ok := cur.Spec.Allocations[key]; ok {
				switch {
				case matchKey(held, req.ContainerID, req.Interface):
					return errUnchanged
				case req.Pod != "" && held.Namespace == req.Namespace && held.Pod == req.Pod:
					// the same pod (a new sandbox, or a new pod of the
					// same name: the old one is gone) takes it over
				default:
					alive, err := a.holderAlive(ctx, held)
					if err != nil {
						return err
					}
					if alive {
						return inUse(sn, ip, held, what)
					}
					klog.InfoS("taking over an address whose pod is gone", "ip", key, "subnet", sn.Name,
						"holder", klog.KRef(held.Namespace, held.Pod), "holderUID", held.PodUID,
						"pod", klog.KRef(req.Namespace, req.Pod))
				}
			}
			setAllocation(cur, key, req.allocation(req.Node, true, a.opts.Now()))
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		return result(sn, b.Name, ip), nil
	}
	p := sn.BlockFor(ip)
	if overlapsAny(p, claimed) {
		return Result{}, newError(ReasonInvalidSubnet, sn.Name,
			"subnet %q: block %s of %s %s overlaps blocks of another size; was the subnet's block size changed?", sn.Name, p, what, ip)
	}
	return a.claimBlock(ctx, sn, p, ip, req)
}

// claimBlock creates block p for req.Node with ip allocated to req inside
// it. A block that exists already (the cache did not show it yet) is
// errRetry.
func (a *Allocator) claimBlock(ctx context.Context, sn *Subnet, p netip.Prefix, ip netip.Addr, req Request) (Result, error) {
	b := newBlock(sn.Name, p, req.Node)
	b.Spec.Allocations = map[string]v1alpha1.Allocation{ip.String(): req.allocation(req.Node, true, a.opts.Now())}
	_, err := a.put(ctx, b, true)
	if errors.Is(err, errStale) {
		return Result{}, errRetry
	}
	if err != nil {
		return Result{}, err
	}
	return result(sn, b.Name, ip), nil
}

// checkRequested tells why ip cannot be asked for in subnet sn; what is how
// messages call it ("static IP", "ip pool entry").
func checkRequested(sn *Subnet, ip netip.Addr, what string) error {
	var msg string
	switch sn.ReservedReason(ip) {
	case "":
		return nil
	case ReasonIPOutOfRange:
		msg = fmt.Sprintf("%s %s is outside subnet %q (%s)", what, ip, sn.Name, sn.CIDR)
		return &Error{Reason: ReasonIPOutOfRange, Subnet: sn.Name, IP: ip, Message: msg}
	case ReasonIPExcluded:
		msg = fmt.Sprintf("%s %s is in the excludeIPs of subnet %q", what, ip, sn.Name)
		return &Error{Reason: ReasonIPExcluded, Subnet: sn.Name, IP: ip, Message: msg}
	}
	kind := "the network or broadcast address"
	if ip == sn.Gateway {
		kind = "the gateway"
	}
	msg = fmt.Sprintf("%s %s is %s of subnet %q (%s)", what, ip, kind, sn.Name, sn.CIDR)
	return &Error{Reason: ReasonIPReserved, Subnet: sn.Name, IP: ip, Message: msg}
}

func inUse(sn *Subnet, ip netip.Addr, held v1alpha1.Allocation, what string) error {
	h := &Holder{Namespace: held.Namespace, Pod: held.Pod, ContainerID: held.ContainerID, Interface: held.Interface, Node: held.Node}
	return &Error{Reason: ReasonIPInUse, Subnet: sn.Name, IP: ip, Holder: h,
		Message: fmt.Sprintf("%s %s of subnet %q is in use by %s", what, ip, sn.Name, h)}
}
