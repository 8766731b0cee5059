package podif

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/netconv"
)

// Check verifies that the pair of spec is as Configure left it: the host end
// is a veth up with ARP off whose peer is the pod interface, and in the pod
// namespace the interface is up with the spec's MAC, MTU, address, default
// route and routes (and TX checksum offload off when asked). It returns
// every difference found.
func (p *Plumber) Check(ctx context.Context, spec PodIfaceSpec) error {
	if err := spec.normalize(); err != nil {
		return err
	}
	sd, err := p.openSides(&spec)
	if err != nil {
		return err
	}
	defer sd.close()
	host, podNS, podH := sd.host, sd.podNS, sd.podH

	hostLink, err := host.h.LinkByName(spec.HostIfName)
	if err != nil {
		return fmt.Errorf("host end %s: %w", spec.HostIfName, err)
	}
	podLink, ok := pairedWith(host, hostLink, podH, podNS, spec.IfName)
	if !ok {
		return fmt.Errorf("%s is not paired with %s in %s", spec.HostIfName, spec.IfName, spec.NetNSPath)
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	ha, pa := hostLink.Attrs(), podLink.Attrs()
	if ha.RawFlags&unix.IFF_UP == 0 {
		bad("host end %s is down", ha.Name)
	}
	if ha.RawFlags&unix.IFF_NOARP == 0 {
		bad("host end %s answers ARP (want arp off)", ha.Name)
	}
	if pa.RawFlags&unix.IFF_UP == 0 {
		bad("%s is down", spec.IfName)
	}
	if pa.HardwareAddr.String() != spec.MAC.String() {
		bad("%s MAC %s, want %s", spec.IfName, pa.HardwareAddr, spec.MAC)
	}
	if spec.MTU > 0 && (pa.MTU != spec.MTU || ha.MTU != spec.MTU) {
		bad("MTU pod %d host %d, want %d", pa.MTU, ha.MTU, spec.MTU)
	}
	family := netlink.FAMILY_V4
	if !spec.IP.Addr().Is4() {
		family = netlink.FAMILY_V6
	}
	addrs, err := podH.AddrList(podLink, family)
	if err != nil {
		return fmt.Errorf("list addresses: %w", err)
	}
	found, other := false, ""
	for _, a := range addrs {
		got := netconv.Prefix(a.IPNet)
		found = found || got == spec.IP
		if got.Addr() == spec.IP.Addr() {
			other = a.IPNet.String()
		}
	}
	switch {
	case found:
	case other != "":
		bad("%s has address %s, want %s (prefix length differs)", spec.IfName, other, spec.IP)
	default:
		bad("%s lacks address %s", spec.IfName, spec.IP)
	}
	routes, err := podH.RouteList(podLink, family)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	want := []Route{}
	if spec.Gateway.IsValid() {
		want = append(want, Route{Dst: defaultDst(spec.IP.Addr()), GW: spec.Gateway})
	}
	want = append(want, spec.Routes...)
	for _, w := range want {
		if !hasRoute(routes, w) {
			bad("%s lacks route %s via %s", spec.IfName, w.Dst, w.GW)
		}
	}
	if spec.DisableTxChecksum {
		var on bool
		err := inNetNS(podNS, func() error {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer unix.Close(fd)
			on, err = txChecksum(fd, spec.IfName)
			return err
		})
		if err != nil {
			return err
		}
		if on {
			bad("%s has TX checksum offload on", spec.IfName)
		}
	}
	return errors.Join(errs...)
}

func hasRoute(routes []netlink.Route, w Route) bool {
	for _, r := range routes {
		isDefault := r.Dst == nil && w.Dst.Bits() == 0
		if (r.Dst != nil && netconv.Prefix(r.Dst) == w.Dst || isDefault) && netconv.Addr(r.Gw) == w.GW {
			return true
		}
	}
	return false
}
