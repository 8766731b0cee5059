package datapath

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// Raw Ethernet frames, as a pod with CAP_NET_RAW can send and capture them
// with AF_PACKET sockets on its eth0.

// frame is one captured Ethernet frame; out marks frames the interface sent.
type frame struct {
	out  bool
	data []byte
}

func (f frame) ethType() uint16 { return binary.BigEndian.Uint16(f.data[12:14]) }
func (f frame) ethSrc() net.HardwareAddr {
	return net.HardwareAddr(f.data[6:12])
}

// capture records every frame an interface sends or receives.
type capture struct {
	name   string
	mu     sync.Mutex
	frames []frame
}

// startCapture opens an AF_PACKET socket on ifname inside ns; it is closed
// in t.Cleanup.
func startCapture(t *testing.T, ns *podiftest.NetNS, ifname, name string) *capture {
	t.Helper()
	var fd int
	if err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index})
	}); err != nil {
		t.Fatalf("capture on %s in %s: %v", ifname, ns.Name, err)
	}
	c := &capture{name: name}
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for !stop.Load() {
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if err != nil || n < 14 {
				continue // timeout: look at stop again
			}
			ll, _ := from.(*unix.SockaddrLinklayer)
			c.mu.Lock()
			c.frames = append(c.frames, frame{out: ll != nil && ll.Pkttype == unix.PACKET_OUTGOING, data: bytes.Clone(buf[:n])})
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { stop.Store(true); <-done; _ = unix.Close(fd) })
	return c
}

// count returns how many captured frames match.
func (c *capture) count(match func(frame) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.frames {
		if match(f) {
			n++
		}
	}
	return n
}

// sendFrames sends raw frames out of ifname inside ns, each a few times.
func sendFrames(ns *podiftest.NetNS, ifname string, frames ...[]byte) error {
	return ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		for range 3 {
			for _, f := range frames {
				sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
				copy(sa.Addr[:], f[:6])
				if err := unix.Sendto(fd, f, 0, sa); err != nil {
					return err
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	})
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

var broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func ethHeader(dst, src net.HardwareAddr, ethType uint16) []byte {
	h := append(append(make([]byte, 0, 14), dst...), src...)
	return binary.BigEndian.AppendUint16(h, ethType)
}

// arpFrame is an ARP request (op 1) or reply (op 2).
func arpFrame(dst, src net.HardwareAddr, op uint16, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	f := ethHeader(dst, src, unix.ETH_P_ARP)
	f = append(f, 0, 1, 8, 0, 6, 4) // Ethernet, IPv4
	f = binary.BigEndian.AppendUint16(f, op)
	f = append(append(f, sha...), spa.AsSlice()...)
	return append(append(f, tha...), tpa.AsSlice()...)
}

// arpClaim matches a received ARP packet that says ip is at mac.
func arpClaim(ip netip.Addr, mac net.HardwareAddr) func(frame) bool {
	return func(f frame) bool {
		return !f.out && f.ethType() == unix.ETH_P_ARP && len(f.data) >= 42 &&
			bytes.Equal(f.data[22:28], mac) && bytes.Equal(f.data[28:32], ip.AsSlice())
	}
}

// udp4Frame is an Ethernet/IPv4/UDP frame (no UDP checksum).
func udp4Frame(dstMAC, srcMAC net.HardwareAddr, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	ip := make([]byte, 20)
	ip[0], ip[8], ip[9] = 0x45, 64, unix.IPPROTO_UDP
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	copy(ip[12:], src.AsSlice())
	copy(ip[16:], dst.AsSlice())
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	udp := binary.BigEndian.AppendUint16(nil, sport)
	udp = binary.BigEndian.AppendUint16(udp, dport)
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(payload)))
	udp = append(udp, 0, 0)
	return append(append(append(ethHeader(dstMAC, srcMAC, unix.ETH_P_IP), ip...), udp...), payload...)
}

// dhcp4 is a BOOTP message (op 1 request, 2 reply) of DHCP type msgType
// whose vendor class option carries tag.
func dhcp4(op, msgType byte, chaddr net.HardwareAddr, tag string) []byte {
	m := make([]byte, 236)
	m[0], m[1], m[2] = op, 1, 6
	copy(m[4:8], "kfat") // xid
	copy(m[28:], chaddr)
	m = append(m, 99, 130, 83, 99) // magic cookie
	m = append(m, 53, 1, msgType, 60, byte(len(tag)))
	return append(append(m, tag...), 255)
}

// icmp6Frame is an Ethernet/IPv6/ICMPv6 frame (hop limit 255, as ND needs);
// body must have an even length (ipChecksum).
func icmp6Frame(dstMAC, srcMAC net.HardwareAddr, src, dst netip.Addr, typ byte, body []byte) []byte {
	msg := append([]byte{typ, 0, 0, 0}, body...)
	// checksum over the pseudo-header and the message
	ps := append(append(src.AsSlice(), dst.AsSlice()...), 0, 0, 0, 0, 0, 0, 0, unix.IPPROTO_ICMPV6)
	binary.BigEndian.PutUint32(ps[32:], uint32(len(msg)))
	binary.BigEndian.PutUint16(msg[2:], ipChecksum(append(ps, msg...)))
	ip := []byte{0x60, 0, 0, 0, 0, 0, unix.IPPROTO_ICMPV6, 255}
	binary.BigEndian.PutUint16(ip[4:], uint16(len(msg)))
	ip = append(append(ip, src.AsSlice()...), dst.AsSlice()...)
	return append(append(ethHeader(dstMAC, srcMAC, unix.ETH_P_IPV6), ip...), msg...)
}

// multicastMAC is the Ethernet address of an IPv6 multicast group.
func multicastMAC(group netip.Addr) net.HardwareAddr {
	g := group.As16()
	return net.HardwareAddr{0x33, 0x33, g[12], g[13], g[14], g[15]}
}

// solicitedNode is the solicited-node multicast group of ip.
func solicitedNode(ip netip.Addr) netip.Addr {
	a := ip.As16()
	return netip.AddrFrom16([16]byte{0xff, 0x02, 11: 1, 12: 0xff, 13: a[13], 14: a[14], 15: a[15]})
}
