package podif

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/netconv"
)

// Configure creates (or, on a repeated ADD, reuses) the veth pair of spec
// and configures both ends; see the package documentation. On failure a pair
// created by this call is removed again.
func (p *Plumber) Configure(ctx context.Context, spec PodIfaceSpec) (_ *Result, err error) {
	if err := spec.normalize(); err != nil {
		return nil, err
	}
	sd, err := p.openSides(&spec)
	if err != nil {
		return nil, err
	}
	defer sd.close()
	host, podNS, podH := sd.host, sd.podNS, sd.podH

	hostLink, podLink, reused, err := p.ensurePair(host, podH, podNS, &spec)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && !reused {
			_ = host.h.LinkDel(hostLink)
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := configureHostEnd(host, hostLink, spec.MTU, reused); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := configurePodEnd(podH, podLink, &spec, reused); err != nil {
		return nil, fmt.Errorf("configure %s in %s: %w", spec.IfName, spec.NetNSPath, err)
	}
	if err := podSocketWork(podNS, podLink, &spec); err != nil {
		return nil, err
	}
	return &Result{
		HostIfName:  spec.HostIfName,
		HostIfIndex: hostLink.Attrs().Index,
		HostMAC:     hostLink.Attrs().HardwareAddr,
		PodIfName:   spec.IfName,
		PodIfIndex:  podLink.Attrs().Index,
		PodMAC:      spec.MAC,
		Reused:      reused,
	}, nil
}

// ensurePair finds a pair from an earlier ADD of the same attachment or
// creates one. A host end of that name wired elsewhere (a stale pair) is
// replaced; a pod-side name already taken by another interface is an error.
func (p *Plumber) ensurePair(host *hostSide, podH *netlink.Handle, podNS netns.NsHandle, spec *PodIfaceSpec) (hostLink, podLink netlink.Link, reused bool, err error) {
	existing, err := host.h.LinkByName(spec.HostIfName)
	switch {
	case err == nil:
		if podLink, ok := pairedWith(host, existing, podH, podNS, spec.IfName); ok {
			return existing, podLink, true, nil
		}
		if existing.Type() != "veth" {
			return nil, nil, false, fmt.Errorf("%s exists and is a %s, not a pod veth", spec.HostIfName, existing.Type())
		}
		if err := host.h.LinkDel(existing); err != nil && !isNotFound(err) {
			return nil, nil, false, fmt.Errorf("delete stale %s: %w", spec.HostIfName, err)
		}
	case !isNotFound(err):
		return nil, nil, false, fmt.Errorf("look up %s: %w", spec.HostIfName, err)
	}
	if l, err := podH.LinkByName(spec.IfName); err == nil {
		return nil, nil, false, fmt.Errorf("%s already exists in %s (%s, index %d)", spec.IfName, spec.NetNSPath, l.Type(), l.Attrs().Index)
	}
	create := p.createPair
	if create == nil {
		create = createPairInPodNS
	}
	hostLink, podLink, err = create(&pairRequest{
		host: host, podH: podH, podNS: podNS,
		hostName: spec.HostIfName, podName: spec.IfName,
		hostMAC: RandomMAC(), podMAC: spec.MAC, mtu: spec.MTU,
	})
	if err != nil {
		if hostLink != nil {
			_ = host.h.LinkDel(hostLink)
		}
		return nil, nil, false, err
	}
	return hostLink, podLink, false, nil
}

// configureHostEnd: ARP off (the node must never answer the pod's ARP with
// its own MAC), IPv6 off (no link-local address, no duplicate ND answers),
// MTU, up.
func configureHostEnd(host *hostSide, l netlink.Link, mtu int, reused bool) error {
	name := l.Attrs().Name
	if err := host.do(func() error { return disableIPv6(name) }); err != nil {
		return fmt.Errorf("disable IPv6 on %s: %w", name, err)
	}
	if l.Attrs().RawFlags&unix.IFF_NOARP == 0 {
		if err := host.h.LinkSetARPOff(l); err != nil {
			return fmt.Errorf("arp off on %s: %w", name, err)
		}
	}
	if reused && mtu > 0 && l.Attrs().MTU != mtu {
		if err := host.h.LinkSetMTU(l, mtu); err != nil {
			return fmt.Errorf("set MTU of %s: %w", name, err)
		}
	}
	if l.Attrs().RawFlags&unix.IFF_UP == 0 {
		if err := host.h.LinkSetUp(l); err != nil {
			return fmt.Errorf("set %s up: %w", name, err)
		}
	}
	return nil
}

// configurePodEnd sets lo and the pod interface up with exactly the wanted
// address, MAC, MTU and routes.
func configurePodEnd(h *netlink.Handle, l netlink.Link, spec *PodIfaceSpec, reused bool) error {
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if lo.Attrs().RawFlags&unix.IFF_UP == 0 {
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up: %w", err)
		}
	}
	a := l.Attrs()
	if reused {
		if a.HardwareAddr.String() != spec.MAC.String() {
			if err := h.LinkSetHardwareAddr(l, spec.MAC); err != nil {
				return fmt.Errorf("set MAC: %w", err)
			}
		}
		if spec.MTU > 0 && a.MTU != spec.MTU {
			if err := h.LinkSetMTU(l, spec.MTU); err != nil {
				return fmt.Errorf("set MTU: %w", err)
			}
		}
	}
	if err := ensureAddress(h, l, spec.IP, reused); err != nil {
		return err
	}
	if a.RawFlags&unix.IFF_UP == 0 {
		if err := h.LinkSetUp(l); err != nil {
			return fmt.Errorf("set up: %w", err)
		}
	}
	if spec.Gateway.IsValid() {
		if err := h.RouteReplace(podRoute(a.Index, spec.IP, defaultDst(spec.IP.Addr()), spec.Gateway)); err != nil {
			return fmt.Errorf("default route via %s: %w", spec.Gateway, err)
		}
	}
	for _, r := range spec.Routes {
		if err := h.RouteReplace(podRoute(a.Index, spec.IP, r.Dst, r.GW)); err != nil {
			return fmt.Errorf("route %s via %s: %w", r.Dst, r.GW, err)
		}
	}
	return nil
}

// ensureAddress leaves ip as the only global address of its family on l.
func ensureAddress(h *netlink.Handle, l netlink.Link, ip netip.Prefix, reused bool) error {
	family := netlink.FAMILY_V4
	flags := 0
	if !ip.Addr().Is4() {
		family = netlink.FAMILY_V6
		flags = unix.IFA_F_NODAD // usable at once
	}
	if reused {
		addrs, err := h.AddrList(l, family)
		if err != nil {
			return fmt.Errorf("list addresses: %w", err)
		}
		for _, a := range addrs {
			if netconv.Prefix(a.IPNet) == ip {
				return nil
			}
			if a.IP.IsLinkLocalUnicast() {
				continue
			}
			if err := h.AddrDel(l, &a); err != nil {
				return fmt.Errorf("remove stale address %s: %w", a.IPNet, err)
			}
		}
	}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: netconv.IPNet(ip), Flags: flags}); err != nil {
		return fmt.Errorf("add address %s: %w", ip, err)
	}
	return nil
}

// podRoute is a route out of the pod interface; a next hop outside the
// pod's subnet is flagged on-link.
func podRoute(ifIndex int, podIP, dst netip.Prefix, gw netip.Addr) *netlink.Route {
	r := &netlink.Route{LinkIndex: ifIndex, Dst: netconv.IPNet(dst)}
	if !gw.IsValid() {
		r.Scope = netlink.SCOPE_LINK
		return r
	}
	r.Gw = gw.AsSlice()
	if !podIP.Contains(gw) {
		r.Flags = int(netlink.FLAG_ONLINK)
	}
	return r
}

// defaultDst is the default route's destination in ip's family.
func defaultDst(ip netip.Addr) netip.Prefix {
	if ip.Is4() {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}

// podSocketWork does what needs sockets of the pod namespace: TX checksum
// offload off and the gratuitous ARP. The sockets are opened with one trip
// of a locked thread into the namespace and used from here.
func podSocketWork(podNS netns.NsHandle, l netlink.Link, spec *PodIfaceSpec) error {
	garp := !spec.SkipGratuitousARP && spec.IP.Addr().Is4()
	if !spec.DisableTxChecksum && !garp {
		return nil
	}
	inetFD, packetFD := -1, -1
	err := inNetNS(podNS, func() error {
		var err error
		if spec.DisableTxChecksum {
			if inetFD, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
				return fmt.Errorf("socket for ethtool: %w", err)
			}
		}
		if garp {
			if packetFD, err = openPacketSocket(); err != nil {
				return fmt.Errorf("packet socket: %w", err)
			}
		}
		return nil
	})
	defer func() {
		if inetFD >= 0 {
			unix.Close(inetFD)
		}
		if packetFD >= 0 {
			closePacketSocket(packetFD)
		}
	}()
	if err != nil {
		return err
	}
	if spec.DisableTxChecksum {
		if err := setTxChecksum(inetFD, spec.IfName, false); err != nil {
			return err
		}
	}
	if garp {
		if err := sendGARP(packetFD, l.Attrs().Index, spec.MAC, spec.IP.Addr(), 1); err != nil {
			return err
		}
	}
	return nil
}
