package podif

import (
	"fmt"
	"net"
	"net/netip"
)

// DefaultIfName is the pod-side interface name when the spec leaves it empty.
const DefaultIfName = "eth0"

// maxIfNameLen is IFNAMSIZ-1.
const maxIfNameLen = 15

// PodIfaceSpec describes the interface to give a pod.
type PodIfaceSpec struct {
	// NetNSPath is the pod's network namespace (CNI_NETNS).
	NetNSPath string
	// IfName is the interface name inside the pod; DefaultIfName if empty.
	IfName string
	// HostIfName names the host end; HostIfName(containerID, IfName) is the
	// conventional value.
	HostIfName string
	// MAC of the pod interface; derived from IP when nil (MACFromIP).
	MAC net.HardwareAddr
	// MTU of both ends; the kernel default (1500) when zero.
	MTU int
	// IP is the pod's address and prefix length.
	IP netip.Prefix
	// Gateway is the next hop of the default route; no default route when
	// invalid (zero). A gateway outside IP's subnet is reached with an
	// on-link route.
	Gateway netip.Addr
	// Routes are added in the pod besides the default route.
	Routes []Route
	// DisableTxChecksum turns TX checksum offload off on the pod interface
	// (needed with the OVS userspace datapath, or TCP fails).
	DisableTxChecksum bool
	// SkipGratuitousARP disables the ARP announcement of IPv4 addresses.
	SkipGratuitousARP bool
}

// Route is an extra route in the pod.
type Route struct {
	// Dst is the destination prefix.
	Dst netip.Prefix
	// GW is the next hop; invalid (zero) means directly connected to the
	// interface.
	GW netip.Addr
}

// Result describes the wired pair.
type Result struct {
	// HostIfName is the host end's name.
	HostIfName string
	// HostIfIndex is the host end's ifindex (in the host namespace).
	HostIfIndex int
	// HostMAC is the host end's MAC.
	HostMAC net.HardwareAddr
	// PodIfName is the pod end's name.
	PodIfName string
	// PodIfIndex is the pod end's ifindex (in the pod namespace).
	PodIfIndex int
	// PodMAC is the pod end's MAC.
	PodMAC net.HardwareAddr
	// Reused is true when an existing pair was kept (repeated ADD).
	Reused bool
}

// normalize fills defaults and validates the spec.
func (s *PodIfaceSpec) normalize() error { return s.normalizeFor(true) }

// normalizeFor is normalize; without withIP the address may be unset (and
// the MAC is then random until Configure sets the one derived from it).
func (s *PodIfaceSpec) normalizeFor(withIP bool) error {
	if s.NetNSPath == "" {
		return fmt.Errorf("podif: no network namespace given")
	}
	if s.IfName == "" {
		s.IfName = DefaultIfName
	}
	if err := validIfName(s.IfName); err != nil {
		return err
	}
	if err := validIfName(s.HostIfName); err != nil {
		return fmt.Errorf("host side: %w", err)
	}
	if !s.IP.IsValid() {
		if withIP {
			return fmt.Errorf("podif: no pod IP given")
		}
		if s.MAC == nil {
			s.MAC = RandomMAC()
		}
	}
	if a := s.IP.Addr(); a.Is4In6() && s.IP.Bits() >= 96 {
		s.IP = netip.PrefixFrom(a.Unmap(), s.IP.Bits()-96)
	}
	if s.MTU < 0 || (s.MTU > 0 && s.MTU < 68) {
		return fmt.Errorf("podif: invalid MTU %d", s.MTU)
	}
	if s.MAC == nil {
		s.MAC = MACFromIP(s.IP.Addr())
	} else if len(s.MAC) != 6 {
		return fmt.Errorf("podif: invalid MAC %s", s.MAC)
	}
	return nil
}

func validIfName(n string) error {
	if n == "" || len(n) > maxIfNameLen || n == "." || n == ".." {
		return fmt.Errorf("podif: invalid interface name %q", n)
	}
	for _, c := range n {
		if c == '/' || c == ':' || c <= ' ' || c > '~' {
			return fmt.Errorf("podif: invalid interface name %q", n)
		}
	}
	return nil
}
