package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/ipam"
)

// nodeAddressAllocator is what keeping the node's address needs of pkg/ipam.
type nodeAddressAllocator interface {
	Allocate(ctx context.Context, req ipam.Request) (ipam.Result, error)
}

// movesNode: the node's address cannot be kept, take another one.
var movesNode = map[ipam.Reason]bool{ipam.ReasonIPInUse: true, ipam.ReasonIPOutOfRange: true,
	ipam.ReasonIPReserved: true, ipam.ReasonIPExcluded: true}

// holdNodeAddress makes sure the node's own address (gw0's, the source of
// host->pod traffic) stays allocated to the node, and returns it. The
// controller's GC frees the addresses of a deleted Node object; when kubelet
// registers the node again the agent is still running with that address on
// gw0, and a pod must never get it. Held: no API call (the allocator answers
// from its cache). Freed: the same address is claimed again. Taken by a pod
// meanwhile: the node moves to a new address (gw0 follows).
func holdNodeAddress(ctx context.Context, a nodeAddressAllocator, req ipam.Request, cur netip.Addr) (netip.Addr, error) {
	if cur.IsValid() {
		again := req
		again.StaticIP = cur
		res, err := a.Allocate(ctx, again)
		var ie *ipam.Error
		switch {
		case err == nil:
			return res.IP, nil
		case !errors.As(err, &ie) || !movesNode[ie.Reason]:
			return cur, fmt.Errorf("hold node address %s: %w", cur, err)
		}
		klog.ErrorS(err, "the node's address cannot be kept (given away while it was free, or its SubNet changed); moving the node to a new address", "address", cur)
	}
	res, err := a.Allocate(ctx, req)
	if err != nil {
		return cur, fmt.Errorf("node address in %s: %w", req.Subnet, err)
	}
	return res.IP, nil
}

// firstNodeAddress allocates the node's address at agent start. A default
// SubNet that does not exist yet (a fresh install: the controller creates
// it) is waited for, with the reason in notReady, instead of failing the
// agent (a restart on every fresh install).
func firstNodeAddress(ctx context.Context, a nodeAddressAllocator, req ipam.Request, retry time.Duration, notReady func(string)) (netip.Addr, error) {
	for {
		addr, err := holdNodeAddress(ctx, a, req, netip.Addr{})
		var ie *ipam.Error
		if err == nil || !errors.As(err, &ie) || ie.Reason != ipam.ReasonSubnetNotFound {
			return addr, err
		}
		why := fmt.Sprintf("waiting for SubNet %s (kubefay-controller creates the default SubNet)", req.Subnet)
		klog.InfoS(why)
		notReady(why)
		select {
		case <-ctx.Done():
			return netip.Addr{}, ctx.Err()
		case <-time.After(retry):
		}
	}
}
