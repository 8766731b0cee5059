package datapath

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

// Hand-made tunnel datagrams, as an unprivileged pod can send them with an
// ordinary UDP socket: the UDP payload is a tunnel header followed by a whole
// inner Ethernet frame.

// tunnelHeader is the 8-byte VXLAN or Geneve (no options) header for vni.
func tunnelHeader(tunnelType string, vni uint32) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint32(h[4:], vni<<8)
	if tunnelType == "geneve" {
		binary.BigEndian.PutUint16(h[2:], 0x6558) // inner Ethernet
	} else {
		h[0] = 0x08 // VNI present
	}
	return h
}

// tunnelPort is the UDP destination port of the tunnel type.
func tunnelPort(tunnelType string) int {
	if tunnelType == "geneve" {
		return 6081
	}
	return 4789
}

// innerUDPFrame is an Ethernet/IPv4/UDP frame to the router MAC, as a remote
// node's L3Forwarding would tunnel it.
func innerUDPFrame(src, dst netip.Addr, dport uint16, payload []byte) []byte {
	eth := append(append([]byte{}, pipeline.RouterMAC...), 0x02, 0, 0, 0, 0, 0x99, 0x08, 0x00)
	ip := make([]byte, 20)
	ip[0], ip[8], ip[9] = 0x45, 64, 17 // IPv4 without options, TTL, UDP
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment
	s, d := src.As4(), dst.As4()
	copy(ip[12:], s[:])
	copy(ip[16:], d[:])
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip))
	udp := make([]byte, 8)
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], dport)
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload))) // checksum 0: none (IPv4)
	return append(append(append(eth, ip...), udp...), payload...)
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// udpInbox collects the payloads a UDP socket receives.
type udpInbox struct{ got chan string }

// listenUDP opens a UDP socket on p's address and port inside its netns.
func listenUDP(p *pod, port int) (*udpInbox, func(), error) {
	var c *net.UDPConn
	if err := p.ns.Do(func() (err error) {
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: p.ip.Addr().AsSlice(), Port: port})
		return err
	}); err != nil {
		return nil, nil, err
	}
	in := &udpInbox{got: make(chan string, 64)}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, err := c.Read(buf)
			if err != nil {
				close(in.got)
				return
			}
			in.got <- string(buf[:n])
		}
	}()
	return in, func() { _ = c.Close() }, nil
}

// waitFor reports whether a payload starting with tag arrives within d.
func (in *udpInbox) waitFor(tag string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case s, ok := <-in.got:
			if !ok {
				return false
			}
			if strings.HasPrefix(s, tag) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// sendUDP sends payload from inside fn's namespace (a pod or a node) to dst,
// from local when it is valid, a few times (the first may wait for ARP).
func sendUDP(do func(func() error) error, local netip.Addr, dst netip.AddrPort, payload []byte) error {
	return do(func() error {
		var laddr *net.UDPAddr
		if local.IsValid() {
			laddr = &net.UDPAddr{IP: local.AsSlice()}
		}
		c, err := net.DialUDP("udp4", laddr, net.UDPAddrFromAddrPort(dst))
		if err != nil {
			return err
		}
		defer c.Close()
		for range 3 {
			if _, err := c.Write(payload); err != nil {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	})
}
