package datapath

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// checkPodIface asserts the pod's eth0: its address, MTU and default route.
func checkPodIface(t *testing.T, p *pod) {
	t.Helper()
	h, err := netns.GetFromPath(p.ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		t.Fatal(err)
	}
	defer nl.Close()
	l, err := nl.LinkByName("eth0")
	if err != nil {
		t.Fatalf("%s: eth0: %v", p.name, err)
	}
	if got := l.Attrs().MTU; got != podMTU {
		t.Errorf("%s: eth0 MTU %d, want %d", p.name, got, podMTU)
	}
	if l.Attrs().OperState != netlink.OperUp && l.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s: eth0 is down", p.name)
	}
	addrs, err := nl.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, a := range addrs {
		found = append(found, a.IPNet.String())
	}
	if len(found) != 1 || found[0] != p.ip.String() {
		t.Errorf("%s: eth0 addresses %v, want [%s]", p.name, found, p.ip)
	}
	routes, err := nl.RouteList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	var def bool
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.String() == "0.0.0.0/0") && r.Gw.Equal(net.IP(defaultGateway.AsSlice())) {
			def = true
		}
	}
	if !def {
		t.Errorf("%s: no default route via %s in %v", p.name, defaultGateway, routes)
	}
}

// echoServer listens on TCP inside p's namespace and echoes one line per
// connection; the socket belongs to the pod's netns even though it is
// served from an ordinary goroutine.
func echoServer(t *testing.T, p *pod, port int) {
	t.Helper()
	var ln net.Listener
	if err := p.ns.Do(func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(p.ip.Addr(), uint16(port)).String())
		return err
	}); err != nil {
		t.Fatalf("listen in %s: %v", p.name, err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(timeout))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil {
					_, _ = c.Write([]byte("echo " + line))
				}
			}()
		}
	}()
}

// tcpEcho connects from p to dst, sends a line and expects it echoed.
func tcpEcho(p *pod, dst netip.AddrPort) error {
	var c net.Conn
	if err := p.ns.Do(func() (err error) {
		c, err = (&net.Dialer{Timeout: 10 * time.Second}).Dial("tcp4", dst.String())
		return err
	}); err != nil {
		return fmt.Errorf("connect %s -> %s: %w", p.ip, dst, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // hang guard
	msg := "hello from " + p.name + "\n"
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read echo over %s -> %s: %w", p.ip, dst, err)
	}
	if got != "echo "+msg {
		return fmt.Errorf("echo %q, want %q", got, "echo "+msg)
	}
	return nil
}
