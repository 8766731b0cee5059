package ipam

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// BlockName returns the name of the IPAMBlock of block in subnet, e.g.
// "defaultnet.10-192-0-64-26". Every node derives the same name, which is
// what makes claiming a block by creating it safe.
func BlockName(subnet string, block netip.Prefix) string {
	suffix := "." + strings.ReplaceAll(block.Addr().String(), ".", "-") + "-" + strconv.Itoa(block.Bits())
	if len(subnet)+len(suffix) > validation.DNS1123SubdomainMaxLength {
		sum := sha256.Sum256([]byte(subnet))
		subnet = strings.TrimRight(subnet[:200], ".-") + "-" + hex.EncodeToString(sum[:4])
	}
	return subnet + suffix
}

// newBlock returns the IPAMBlock object of block, owned by node.
func newBlock(subnet string, block netip.Prefix, node string) *v1alpha1.IPAMBlock {
	b := &v1alpha1.IPAMBlock{
		Spec: v1alpha1.IPAMBlockSpec{Subnet: subnet, CIDR: block.String(), Node: node},
	}
	b.Name = BlockName(subnet, block)
	b.Labels = map[string]string{}
	if len(validation.IsValidLabelValue(subnet)) == 0 {
		b.Labels[v1alpha1.LabelSubnet] = subnet
	}
	if len(validation.IsValidLabelValue(node)) == 0 {
		b.Labels[v1alpha1.LabelNode] = node
	}
	return b
}

// blockPrefix parses a block's CIDR.
func blockPrefix(b *v1alpha1.IPAMBlock) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(b.Spec.CIDR)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("IPAMBlock %s: bad cidr %q", b.Name, b.Spec.CIDR)
	}
	return p.Masked(), nil
}

// PoolOf returns the pool of an IPAMBlock of subnet s with its allocations
// marked. Allocations on addresses outside the block or reserved are
// ignored (they hold nothing a pool could hand out).
func PoolOf(s *Subnet, b *v1alpha1.IPAMBlock) (*Pool, error) {
	p, err := blockPrefix(b)
	if err != nil {
		return nil, err
	}
	pool, err := NewPool(s, p)
	if err != nil {
		return nil, fmt.Errorf("IPAMBlock %s: %w", b.Name, err)
	}
	for ip := range b.Spec.Allocations {
		if a, err := netip.ParseAddr(ip); err == nil {
			_ = pool.Use(a)
		}
	}
	return pool, nil
}

// matchKey reports whether allocation a belongs to containerID and, when
// iface is not empty, to that interface.
func matchKey(a v1alpha1.Allocation, containerID, iface string) bool {
	return a.ContainerID == containerID && (iface == "" || a.Interface == iface)
}

// findByKey returns the address allocated in b to containerID/iface.
func findByKey(b *v1alpha1.IPAMBlock, containerID, iface string) (string, bool) {
	for ip, a := range b.Spec.Allocations {
		if matchKey(a, containerID, iface) {
			return ip, true
		}
	}
	return "", false
}

// sortBlocks orders blocks by address.
func sortBlocks(bs []*v1alpha1.IPAMBlock) {
	key := func(b *v1alpha1.IPAMBlock) uint64 {
		p, err := blockPrefix(b)
		if err != nil {
			return 1 << 40
		}
		return uint64(u32(p.Addr()))<<6 | uint64(p.Bits())
	}
	sort.Slice(bs, func(i, j int) bool { return key(bs[i]) < key(bs[j]) })
}

// overlapsAny reports whether p overlaps one of the prefixes.
func overlapsAny(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if p.Overlaps(q) {
			return true
		}
	}
	return false
}
