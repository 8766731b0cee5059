package nodenet

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/netconv"
)

// addrActions is what turns gw0's current IPv4 addresses into the desired
// ones, in this order: add first, delete del, then add add. The kernel
// appends a new primary address after the existing ones, so the add order is
// the final order.
type addrActions struct {
	// first is the node address when it is missing: added before anything
	// is deleted, so that the device never runs out of IPv4 addresses (the
	// kernel then flushes every route through it, foreign ones included).
	first netip.Prefix
	del   []netip.Prefix
	add   []netip.Prefix
}

// planAddresses compares the current addresses (kernel order) with the
// desired ones (desired order). Addresses not desired are deleted. When
// pinned, desired[0] must end up first: if it is not first, the addresses in
// front of it are deleted and added again after it (when it is missing, it
// is added first, which puts every current address in front of it). Nothing
// else is touched, so a converged device produces no action.
func planAddresses(current, desired []netip.Prefix, pinned bool) addrActions {
	var a addrActions
	var kept []netip.Prefix
	for _, c := range current {
		if slices.Contains(desired, c) {
			kept = append(kept, c)
		} else {
			a.del = append(a.del, c)
		}
	}
	if pinned && len(desired) > 0 {
		front := -1
		for i, k := range kept {
			if k == desired[0] {
				front = i
				break
			}
		}
		if front < 0 {
			a.first = desired[0]
			front = len(kept)
		}
		a.del = append(a.del, kept[:front]...)
		kept = kept[front:]
		if a.first.IsValid() {
			kept = append(kept, a.first)
		}
	}
	for _, d := range desired {
		if !slices.Contains(kept, d) {
			a.add = append(a.add, d)
		}
	}
	return a
}

// listV4Addrs returns the IPv4 addresses of link in the kernel's order.
func listV4Addrs(link netlink.Link) ([]netip.Prefix, error) {
	var addrs []netlink.Addr
	err := retryDump(func() (err error) {
		addrs, err = netlink.AddrList(link, netlink.FAMILY_V4)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", link.Attrs().Name, err)
	}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		if a.IPNet == nil {
			continue
		}
		if p := netconv.Prefix(a.IPNet); p.Addr().Is4() {
			out = append(out, p)
		}
	}
	return out, nil
}

// syncAddresses makes link's IPv4 addresses equal to p.addrs, in order.
func syncAddresses(link netlink.Link, p plan, log changeLog) error {
	current, err := listV4Addrs(link)
	if err != nil {
		return err
	}
	acts := planAddresses(current, p.addrs, p.primaryPinned)
	name := link.Attrs().Name
	if acts.first.IsValid() {
		if err := netlink.AddrAdd(link, &netlink.Addr{IPNet: netconv.IPNet(acts.first)}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("adding address %s to %s: %w", acts.first, name, err)
		}
		log("address add %s dev %s", acts.first, name)
	}
	for _, n := range acts.del {
		err := netlink.AddrDel(link, &netlink.Addr{IPNet: netconv.IPNet(n)})
		if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("deleting address %s from %s: %w", n, name, err)
		}
		log("address del %s dev %s", n, name)
	}
	for _, n := range acts.add {
		err := netlink.AddrAdd(link, &netlink.Addr{IPNet: netconv.IPNet(n)})
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("adding address %s to %s: %w", n, name, err)
		}
		log("address add %s dev %s", n, name)
	}
	return nil
}

// retryDump retries a netlink dump that the kernel interrupted because the
// table changed meanwhile.
func retryDump(f func() error) error {
	var err error
	for range 5 {
		if err = f(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return err
		}
	}
	return err
}
