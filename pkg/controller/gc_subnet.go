package controller

import (
	"context"
	"net/netip"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// subnetCIDRs maps every SubNet of the cache to its CIDR.
func (g *GarbageCollector) subnetCIDRs(ctx context.Context) (map[string]netip.Prefix, error) {
	list := &v1alpha1.SubNetList{}
	if err := g.Client.List(ctx, list); err != nil {
		return nil, err
	}
	out := make(map[string]netip.Prefix, len(list.Items))
	for _, sn := range list.Items {
		if p, err := netip.ParsePrefix(sn.Spec.CIDR); err == nil {
			out[sn.Name] = p.Masked()
		}
	}
	return out, nil
}

// outsideSubnet reports whether a block belongs to no SubNet any more: its
// SubNet is gone, or was re-created with a CIDR that does not hold the block
// (blocks an agent claimed while the old SubNet was being deleted). The
// cache's answer is confirmed against the API server.
func (g *GarbageCollector) outsideSubnet(ctx context.Context, b *v1alpha1.IPAMBlock, subnets map[string]netip.Prefix) (bool, error) {
	bp, err := netip.ParsePrefix(b.Spec.CIDR)
	if err != nil {
		return false, nil // invalid: a human's business
	}
	holds := func(p netip.Prefix) bool { return p.Bits() <= bp.Bits() && p.Contains(bp.Addr()) }
	if p, ok := subnets[b.Spec.Subnet]; ok && holds(p) {
		return false, nil
	}
	sn := &v1alpha1.SubNet{}
	err = g.APIReader.Get(ctx, client.ObjectKey{Name: b.Spec.Subnet}, sn)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	}
	p, err := netip.ParsePrefix(sn.Spec.CIDR)
	return err == nil && !holds(p.Masked()), nil
}

// deleteOutsideBlock deletes a block of no SubNet unless a live pod still
// holds one of its addresses (then it waits for that pod to go).
func (g *GarbageCollector) deleteOutsideBlock(ctx context.Context, b *v1alpha1.IPAMBlock, pods, nodes map[string]string) (bool, error) {
	for ip, al := range b.Spec.Allocations {
		if al.Pod == "" {
			continue // a node's own address: the node takes a new one in its SubNet
		}
		gone, err := g.holderGone(ctx, al, pods, nodes)
		if err != nil || !gone {
			if err == nil {
				klog.FromContext(ctx).Info("IPAM block of a deleted or re-created SubNet is still used by a live pod",
					"block", b.Name, "subnet", b.Spec.Subnet, "ip", ip, "pod", klog.KRef(al.Namespace, al.Pod))
			}
			return false, err
		}
	}
	err := g.Client.Delete(ctx, b, client.Preconditions{UID: &b.UID, ResourceVersion: &b.ResourceVersion})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return false, nil
	}
	if err == nil {
		klog.FromContext(ctx).Info("Deleted the IPAM block of a deleted or re-created SubNet", "block", b.Name, "subnet", b.Spec.Subnet, "cidr", b.Spec.CIDR)
	}
	return err == nil, err
}
