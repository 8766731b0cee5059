package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// MaxIPPoolSize bounds an ip-pool annotation: every ADD of the pod walks
// the pool under its node's IPAM lock.
const MaxIPPoolSize = 4096

// ParseIPPool parses the value of an ip-pool annotation: IPv4 addresses
// separated by commas (blanks around them are ignored). A repeated address
// keeps its first place. An empty value is an empty pool.
func ParseIPPool(s string) ([]netip.Addr, error) {
	var pool []netip.Addr
	seen := map[netip.Addr]bool{}
	if n := strings.Count(s, ",") + 1; n > MaxIPPoolSize {
		return nil, fmt.Errorf("the pool lists %d entries, at most %d are allowed", n, MaxIPPoolSize)
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil || !ip.Is4() {
			return nil, fmt.Errorf("%q is not an IPv4 address", f)
		}
		if !seen[ip] {
			seen[ip] = true
			pool = append(pool, ip)
		}
	}
	return pool, nil
}

// allocateIPPool gives req the first address of req.Pool that no other live
// pod holds, through the static-IP path (claimIP): the address is recorded
// as requested (Static), a holder that is gone is taken over.
// Every entry must be an allocatable address of the subnet, or nothing is
// allocated. When every entry is held, the error (ReasonIPPoolExhausted)
// names the holder of each.
func (a *Allocator) allocateIPPool(ctx context.Context, sn *Subnet, blocks []*v1alpha1.IPAMBlock, req Request) (Result, error) {
	for _, ip := range req.Pool {
		if err := checkRequested(sn, ip, wantPool); err != nil {
			return Result{}, err
		}
	}
	held := make([]string, 0, len(req.Pool))
	for _, ip := range req.Pool {
		res, err := a.claimIP(ctx, sn, blocks, req, ip, wantPool)
		var e *Error
		if errors.As(err, &e) && e.Reason == ReasonIPInUse && e.Holder != nil {
			held = append(held, fmt.Sprintf("%s held by %s", ip, e.Holder.short()))
			continue
		}
		return res, err
	}
	return Result{}, &Error{Reason: ReasonIPPoolExhausted, Subnet: sn.Name,
		Message: fmt.Sprintf("ip pool exhausted: %s (subnet %q)", strings.Join(held, ", "), sn.Name)}
}
