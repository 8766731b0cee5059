package nodenet

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/netconv"
)

// TunnelOverhead is what VXLAN or Geneve (without options) adds to a pod's
// packet on an IPv4 underlay, in bytes: outer IPv4 (20) + UDP (8) + VXLAN or
// Geneve header (8) + inner Ethernet (14); the outer Ethernet is not counted.
const TunnelOverhead = 50

// minMTU is the smallest IPv4 MTU (RFC 791).
const minMTU = 68

// MTU returns the MTU to give pods and gw0: override when it is positive
// (an explicit configuration wins and is not compared with the underlay),
// otherwise DetectMTU(nodeIP, tunnelOverhead).
func MTU(override int, nodeIP netip.Addr, tunnelOverhead int) (int, error) {
	if override > 0 {
		if override < minMTU {
			return 0, fmt.Errorf("configured MTU %d is below the IPv4 minimum %d", override, minMTU)
		}
		return override, nil
	}
	if override < 0 {
		return 0, fmt.Errorf("configured MTU %d is negative", override)
	}
	return DetectMTU(nodeIP, tunnelOverhead)
}

// DetectMTU returns the MTU of the underlay minus tunnelOverhead
// (TunnelOverhead): the largest MTU pods and gw0 can use without
// encapsulated packets being dropped (the userspace datapath drops them
// without an ICMP error). The underlay is the device that holds nodeIP or,
// when nodeIP is invalid (zero), the device of the IPv4 default route of the main table;
// an MTU set on that default route ("mtu 1400") lowers the result. It acts on
// the network namespace of the calling thread.
func DetectMTU(nodeIP netip.Addr, tunnelOverhead int) (int, error) {
	if tunnelOverhead < 0 {
		return 0, fmt.Errorf("invalid tunnel overhead %d", tunnelOverhead)
	}
	var (
		link     netlink.Link
		routeMTU int
		err      error
	)
	if nodeIP.IsValid() {
		link, err = linkHolding(nodeIP)
	} else {
		link, routeMTU, err = defaultRouteLink()
	}
	if err != nil {
		return 0, err
	}
	underlay := link.Attrs().MTU
	if routeMTU > 0 && routeMTU < underlay {
		underlay = routeMTU
	}
	mtu := underlay - tunnelOverhead
	if mtu < minMTU {
		return 0, fmt.Errorf("underlay %s has MTU %d: too small for a tunnel overhead of %d", link.Attrs().Name, underlay, tunnelOverhead)
	}
	return mtu, nil
}

// linkHolding returns the device that has ip as one of its addresses.
func linkHolding(ip netip.Addr) (netlink.Link, error) {
	var addrs []netlink.Addr
	err := retryDump(func() (err error) {
		addrs, err = netlink.AddrList(nil, netlink.FAMILY_ALL)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing addresses: %w", err)
	}
	for _, a := range addrs {
		if a.IPNet == nil || netconv.Addr(a.IP) != ip.Unmap() {
			continue
		}
		link, err := netlink.LinkByIndex(a.LinkIndex)
		if err != nil {
			return nil, fmt.Errorf("device of %s: %w", ip, err)
		}
		return link, nil
	}
	return nil, fmt.Errorf("no device holds the node address %s", ip)
}

// defaultRouteLink returns the device of the IPv4 default route of the main
// table (the first next hop of a multipath one; the lowest metric first) and
// the route's own MTU (0 when unset).
func defaultRouteLink() (netlink.Link, int, error) {
	routes, err := listMainV4Routes()
	if err != nil {
		return nil, 0, err
	}
	var best *netlink.Route
	for i := range routes {
		r := &routes[i]
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		if normType(r.Type) != unix.RTN_UNICAST {
			continue
		}
		if best == nil || r.Priority < best.Priority {
			best = r
		}
	}
	if best == nil {
		return nil, 0, errors.New("no IPv4 default route to find the underlay device: give the node IP or an MTU")
	}
	index := best.LinkIndex
	if index == 0 && len(best.MultiPath) > 0 {
		index = best.MultiPath[0].LinkIndex
	}
	link, err := netlink.LinkByIndex(index)
	if err != nil {
		return nil, 0, fmt.Errorf("device of the default route: %w", err)
	}
	return link, best.MTU, nil
}
