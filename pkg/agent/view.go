package agent

import (
	"context"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// readView builds the ClusterView from the informer cache: every SubNet,
// every IPAMBlock and every Node's underlay address. Invalid objects are
// logged and skipped (validation rejects them at the API; this is defence).
func readView(ctx context.Context, r client.Reader) (ClusterView, error) {
	var v ClusterView
	var subnets v1alpha1.SubNetList
	if err := r.List(ctx, &subnets); err != nil {
		return v, err
	}
	for i := range subnets.Items {
		sn, err := ipam.ParseSubnet(&subnets.Items[i])
		if err != nil {
			klog.ErrorS(err, "skipping invalid SubNet", "subnet", subnets.Items[i].Name)
			continue
		}
		for _, a := range sn.IgnoredAllowSubnets {
			klog.ErrorS(nil, "SubNet allowSubnets entry is not a CIDR, ignored", "subnet", sn.Name, "entry", a)
		}
		v.Subnets = append(v.Subnets, *sn)
	}
	sort.Slice(v.Subnets, func(i, j int) bool { return v.Subnets[i].Name < v.Subnets[j].Name })

	var blocks v1alpha1.IPAMBlockList
	if err := r.List(ctx, &blocks); err != nil {
		return v, err
	}
	for _, b := range blocks.Items {
		p, err := netip.ParsePrefix(b.Spec.CIDR)
		if err != nil {
			klog.ErrorS(err, "skipping invalid IPAMBlock", "block", b.Name)
			continue
		}
		bv := BlockView{CIDR: p.Masked(), Node: b.Spec.Node}
		for ip, al := range b.Spec.Allocations {
			if al.Node == "" || al.Node == b.Spec.Node {
				continue
			}
			if a, err := netip.ParseAddr(ip); err == nil {
				if bv.Elsewhere == nil {
					bv.Elsewhere = map[netip.Addr]string{}
				}
				bv.Elsewhere[a] = al.Node
			}
		}
		v.Blocks = append(v.Blocks, bv)
	}
	sort.Slice(v.Blocks, func(i, j int) bool { return v.Blocks[i].CIDR.String() < v.Blocks[j].CIDR.String() })

	var nodes corev1.NodeList
	if err := r.List(ctx, &nodes); err != nil {
		return v, err
	}
	v.NodeIPs = map[string]netip.Addr{}
	for _, n := range nodes.Items {
		if ip := nodeInternalIP(&n); ip.IsValid() {
			v.NodeIPs[n.Name] = ip
		}
	}
	return v, nil
}

// nodeInternalIP is the node's first IPv4 InternalIP (the tunnel endpoint).
func nodeInternalIP(n *corev1.Node) netip.Addr {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() {
			return ip
		}
	}
	return netip.Addr{}
}
