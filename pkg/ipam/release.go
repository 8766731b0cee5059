package ipam

import (
	"context"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// Release frees the address of containerID's interface iface (every
// interface of the container when iface is empty). An unknown container is
// success. Release reads the blocks from the cache: an allocation the cache
// has not seen yet (released within milliseconds of its allocation) stays
// until the controller's garbage collector frees it.
func (a *Allocator) Release(ctx context.Context, containerID, iface string) error {
	if containerID == "" {
		return newError(ReasonInvalidRequest, "", "IPAM release without a container ID")
	}
	return a.releaseWhere(ctx, func(_ string, al v1alpha1.Allocation) bool { return matchKey(al, containerID, iface) })
}

// ReleasePod frees every address held by pod namespace/name, whatever its
// container.
func (a *Allocator) ReleasePod(ctx context.Context, namespace, name string) error {
	if name == "" {
		return newError(ReasonInvalidRequest, "", "IPAM release without a pod name")
	}
	return a.releaseWhere(ctx, func(_ string, al v1alpha1.Allocation) bool {
		return al.Namespace == namespace && al.Pod == name
	})
}

func (a *Allocator) releaseWhere(ctx context.Context, match func(string, v1alpha1.Allocation) bool) error {
	blocks, err := a.blocks(ctx, "")
	if err != nil {
		return err
	}
	for _, b := range blocks {
		if !anyMatch(b, match) {
			continue
		}
		if _, err := a.ReleaseIn(ctx, b, match); err != nil {
			return err
		}
	}
	return nil
}

// ReleaseIn removes from block b the allocations match selects and returns
// their addresses. It waits in the queue of b's node like an allocation
// (see Allocate): releases and allocations of one node are written
// together. match is applied to the block as read from the API after a
// conflict, so an address allocated anew in the meantime is only freed if
// match still selects its new holder. A block deleted meanwhile releases
// nothing.
func (a *Allocator) ReleaseIn(ctx context.Context, b *v1alpha1.IPAMBlock, match func(ip string, al v1alpha1.Allocation) bool) ([]string, error) {
	o := &op{ctx: ctx, block: b, match: match}
	a.queues.submit(queueKey(b.Spec.Node, b.Spec.Subnet), o, a.runBatch)
	return o.freed, o.err
}

func anyMatch(b *v1alpha1.IPAMBlock, match func(string, v1alpha1.Allocation) bool) bool {
	for ip, al := range b.Spec.Allocations {
		if match(ip, al) {
			return true
		}
	}
	return false
}
