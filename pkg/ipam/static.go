package ipam

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// allocateStatic gives req.StaticIP to req, in whichever block holds it
// (the block of another node if need be: the allocation records the node
// the pod lives on), claiming that block for req.Node if nobody has.
func (a *Allocator) allocateStatic(ctx context.Context, sn *Subnet, blocks []*v1alpha1.IPAMBlock, req Request) (Result, error) {
	ip := req.StaticIP
	if err := checkStatic(sn, ip); err != nil {
		return Result{}, err
	}
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
				case req.Pod == "" || held.Namespace != req.Namespace || held.Pod != req.Pod:
					return inUse(sn, ip, held)
				}
				// The same pod (a new sandbox, or a new pod of the same
				// name: the old one is gone) takes its address over.
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
			"subnet %q: block %s of static IP %s overlaps blocks of another size; was the subnet's block size changed?", sn.Name, p, ip)
	}
	return a.create(ctx, sn, p, ip, req, true)
}

// checkStatic tells why ip cannot be asked for in subnet sn.
func checkStatic(sn *Subnet, ip netip.Addr) error {
	var msg string
	switch sn.ReservedReason(ip) {
	case "":
		return nil
	case ReasonIPOutOfRange:
		msg = fmt.Sprintf("static IP %s is outside subnet %q (%s)", ip, sn.Name, sn.CIDR)
		return &Error{Reason: ReasonIPOutOfRange, Subnet: sn.Name, IP: ip, Message: msg}
	case ReasonIPExcluded:
		msg = fmt.Sprintf("static IP %s is in the excludeIPs of subnet %q", ip, sn.Name)
		return &Error{Reason: ReasonIPExcluded, Subnet: sn.Name, IP: ip, Message: msg}
	}
	what := "the network or broadcast address"
	if ip == sn.Gateway {
		what = "the gateway"
	}
	msg = fmt.Sprintf("static IP %s is %s of subnet %q (%s)", ip, what, sn.Name, sn.CIDR)
	return &Error{Reason: ReasonIPReserved, Subnet: sn.Name, IP: ip, Message: msg}
}

func inUse(sn *Subnet, ip netip.Addr, held v1alpha1.Allocation) error {
	h := &Holder{Namespace: held.Namespace, Pod: held.Pod, ContainerID: held.ContainerID, Interface: held.Interface, Node: held.Node}
	return &Error{Reason: ReasonIPInUse, Subnet: sn.Name, IP: ip, Holder: h,
		Message: fmt.Sprintf("static IP %s of subnet %q is in use by %s", ip, sn.Name, h)}
}
