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
	return udp4Frame(pipeline.RouterMAC, net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}, src, dst, 40000, dport, payload)
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

// waitFor reports whether a payload starting with tag arrives within d.
func (in *udpSocket) waitFor(tag string, d time.Duration) bool {
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
