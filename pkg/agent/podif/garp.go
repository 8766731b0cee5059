package podif

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// garpFrame builds a gratuitous ARP request (sender and target protocol
// address both ip) broadcast from mac: the form every switch and kernel
// accepts to refresh its tables.
func garpFrame(mac net.HardwareAddr, ip netip.Addr) []byte {
	ip4 := ip.Unmap().As4()
	f := make([]byte, 14+28)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], unix.ETH_P_ARP)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:2], 1)             // hardware type Ethernet
	binary.BigEndian.PutUint16(a[2:4], unix.ETH_P_IP) // protocol IPv4
	a[4], a[5] = 6, 4                                 // address lengths
	binary.BigEndian.PutUint16(a[6:8], 1)             // request
	copy(a[8:14], mac)                                // sender MAC
	copy(a[14:18], ip4[:])                            // sender IP
	copy(a[24:28], ip4[:])                            // target IP (target MAC zero)
	return f
}

// openPacketSocket returns an AF_PACKET socket of the calling thread's
// network namespace that receives nothing (protocol 0) and can send frames.
func openPacketSocket() (int, error) {
	return unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
}

// closePacketSocket closes an AF_PACKET socket in the background: the
// kernel waits for an RCU grace period (synchronize_net) when releasing one,
// 10-30 ms here, which would otherwise triple the time of a pod ADD.
func closePacketSocket(fd int) {
	go unix.Close(fd)
}

// sendGARP sends count gratuitous ARPs for ip out of ifIndex through the
// packet socket fd.
func sendGARP(fd, ifIndex int, mac net.HardwareAddr, ip netip.Addr, count int) error {
	frame := garpFrame(mac, ip)
	sa := &unix.SockaddrLinklayer{
		Protocol: htons(unix.ETH_P_ARP),
		Ifindex:  ifIndex,
		Halen:    6,
		Addr:     [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for range count {
		if err := unix.Sendto(fd, frame, 0, sa); err != nil {
			return fmt.Errorf("send gratuitous ARP for %s: %w", ip, err)
		}
	}
	return nil
}

// SendGratuitousARP announces ip from interface ifName of the network
// namespace at netnsPath, count times. Callers that attach the host end to a
// switch after Configure use it to announce the pod once the port exists.
// IPv6 addresses are ignored (no ARP).
func SendGratuitousARP(netnsPath, ifName string, ip netip.Addr, count int) error {
	if !ip.Unmap().Is4() {
		return nil
	}
	ns, err := netns.GetFromPath(netnsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", netnsPath, err)
	}
	defer ns.Close()
	var fd int
	var ifi *net.Interface
	err = inNetNS(ns, func() error {
		var err error
		if ifi, err = net.InterfaceByName(ifName); err != nil {
			return err
		}
		fd, err = openPacketSocket()
		return err
	})
	if err != nil {
		return err
	}
	defer closePacketSocket(fd)
	return sendGARP(fd, ifi.Index, ifi.HardwareAddr, ip, count)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
