package nodenet

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// TestKernelDropsPodTunnelPackets sends UDP from a pod (behind a veth named
// gw0) to the node itself and, forwarded and masqueraded, to a host on
// another link (standing for another node): the tunnel ports stay closed to
// pods, other ports pass.
func TestKernelDropsPodTunnelPackets(t *testing.T) {
	n := newNode(t)
	pod := podiftest.NewNetNS(t, "kfp")
	peer := podiftest.NewNetNS(t, "kfo")
	// gw0 leads to the pod; up0 leads to the other node (lab range, in netns only).
	n.sh("ip", "link", "del", "gw0")
	n.sh("ip", "link", "add", "gw0", "type", "veth", "peer", "name", "eth0", "netns", pod.Name)
	n.sh("ip", "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", peer.Name)
	n.sh("ip", "addr", "add", "198.51.100.201/24", "dev", "up0")
	n.sh("ip", "link", "set", "up0", "up")
	for _, c := range [][]string{
		{"ip", "netns", "exec", pod.Name, "ip", "addr", "add", "10.192.0.10/16", "dev", "eth0"},
		{"ip", "netns", "exec", pod.Name, "ip", "link", "set", "eth0", "up"},
		{"ip", "netns", "exec", pod.Name, "ip", "route", "add", "default", "via", "10.192.0.1"},
		{"ip", "netns", "exec", peer.Name, "ip", "addr", "add", "198.51.100.202/24", "dev", "eth0"},
		{"ip", "netns", "exec", peer.Name, "ip", "link", "set", "eth0", "up"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	n.apply(n.reconciler(), oneSubnet) // gw0 holds 10.192.0.2 (node) and 10.192.0.1 (gateway)

	inNode := func(fn func() error) error { return n.try(fn) }
	for _, tc := range []struct {
		name   string
		where  func(func() error) error
		listen string
		port   int
		want   bool
	}{
		{"to this node, VXLAN port", inNode, "10.192.0.2", 4789, false},
		{"to this node, Geneve port", inNode, "10.192.0.2", 6081, false},
		{"to this node, other port", inNode, "10.192.0.2", 4790, true},
		{"to another node, VXLAN port", peer.Do, "198.51.100.202", 4789, false},
		{"to another node, Geneve port", peer.Do, "198.51.100.202", 6081, false},
		{"to another node, other port", peer.Do, "198.51.100.202", 4790, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ln *net.UDPConn
			if err := tc.where(func() (err error) {
				ln, err = net.ListenUDP("udp4", &net.UDPAddr{Port: tc.port})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			dst := net.JoinHostPort(tc.listen, strconv.Itoa(tc.port))
			if err := pod.Do(func() error {
				c, err := net.Dial("udp4", dst)
				if err != nil {
					return err
				}
				defer c.Close()
				for range 3 { // the first may wait for ARP
					if _, err := c.Write([]byte("forged tunnel packet")); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatalf("send to %s: %v", dst, err)
			}
			_ = ln.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 64)
			_, from, err := ln.ReadFromUDP(buf)
			got := err == nil
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("pod -> %s: received=%v (from %v), want %v", dst, got, from, tc.want)
			}
		})
	}
}
