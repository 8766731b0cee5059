package cli

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// inventory is everything the commands read from the API.
type inventory struct {
	subnets []v1alpha1.SubNet
	blocks  []v1alpha1.IPAMBlock
	// nsBySubnet maps a subnet name to the namespaces whose annotation
	// names it.
	nsBySubnet map[string][]string
}

// load reads SubNets and IPAMBlocks, and Namespaces when withNamespaces is
// set (a failure to list those is only a warning: RBAC may forbid it).
func load(ctx context.Context, o *Options, withNamespaces bool) (*inventory, error) {
	c, err := o.client()
	if err != nil {
		return nil, err
	}
	inv := &inventory{nsBySubnet: map[string][]string{}}
	var subnets v1alpha1.SubNetList
	if err := c.List(ctx, &subnets); err != nil {
		return nil, fmt.Errorf("list subnets: %w", err)
	}
	inv.subnets = subnets.Items
	sort.Slice(inv.subnets, func(i, j int) bool { return inv.subnets[i].Name < inv.subnets[j].Name })
	var blocks v1alpha1.IPAMBlockList
	if err := c.List(ctx, &blocks); err != nil {
		return nil, fmt.Errorf("list IPAM blocks: %w", err)
	}
	inv.blocks = blocks.Items
	if withNamespaces {
		var nss corev1.NamespaceList
		if err := c.List(ctx, &nss); err != nil {
			o.warnf("cannot list namespaces (%v): showing spec.namespaces only", err)
		}
		for _, ns := range nss.Items {
			if sn := namespaceSubnet(ns.Annotations); sn != "" {
				inv.nsBySubnet[sn] = append(inv.nsBySubnet[sn], ns.Name)
			}
		}
	}
	return inv, nil
}

func namespaceSubnet(ann map[string]string) string {
	for _, k := range v1alpha1.NamespaceSubnetAnnotations {
		if v := ann[k]; v != "" {
			return v
		}
	}
	return ""
}

// subnet returns the SubNet called name.
func (inv *inventory) subnet(name string) (*v1alpha1.SubNet, bool) {
	for i := range inv.subnets {
		if inv.subnets[i].Name == name {
			return &inv.subnets[i], true
		}
	}
	return nil, false
}

// blocksOf returns the IPAMBlocks of subnet name, in address order.
func (inv *inventory) blocksOf(name string) []*v1alpha1.IPAMBlock {
	var out []*v1alpha1.IPAMBlock
	for i := range inv.blocks {
		if inv.blocks[i].Spec.Subnet == name {
			out = append(out, &inv.blocks[i])
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := netip.ParsePrefix(out[i].Spec.CIDR)
		b, _ := netip.ParsePrefix(out[j].Spec.CIDR)
		if a.Addr() != b.Addr() {
			return a.Addr().Less(b.Addr())
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// namespacesOf returns the namespaces of subnet sn: those annotated with
// its name and those its spec lists, sorted and without duplicates.
func (inv *inventory) namespacesOf(sn *v1alpha1.SubNet) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{inv.nsBySubnet[sn.Name], sn.Spec.Namespaces} {
		for _, ns := range list {
			if !seen[ns] {
				seen[ns] = true
				out = append(out, ns)
			}
		}
	}
	sort.Strings(out)
	return out
}
