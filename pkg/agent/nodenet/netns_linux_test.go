package nodenet

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// node is a throw-away network namespace standing for a node, with a gw0
// device (dummy when the kernel has it, else one end of a veth pair: the
// datapath is not under test).
type node struct {
	t  *testing.T
	ns *podiftest.NetNS
}

func newNode(t *testing.T) *node {
	t.Helper()
	podiftest.Require(t, "nft", "ip")
	n := &node{t: t, ns: podiftest.NewNetNS(t, "kfn")}
	n.do(func() error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = "gw0"
		if err := netlink.LinkAdd(&netlink.Dummy{LinkAttrs: attrs}); err == nil {
			return nil
		}
		veth := &netlink.Veth{LinkAttrs: attrs, PeerName: "gw0-peer"}
		if err := netlink.LinkAdd(veth); err != nil {
			return err
		}
		peer, err := netlink.LinkByName("gw0-peer")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(peer)
	})
	return n
}

// veth adds a veth pair name / name+"p" with the given MTU, both ends up.
func (n *node) veth(name string, mtu int) {
	n.t.Helper()
	n.do(func() error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = name
		attrs.MTU = mtu
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: name + "p"}); err != nil {
			return err
		}
		for _, l := range []string{name, name + "p"} {
			link, err := netlink.LinkByName(l)
			if err != nil {
				return err
			}
			if err := netlink.LinkSetUp(link); err != nil {
				return err
			}
		}
		return nil
	})
}

// do runs fn on an OS thread inside the node's namespace and fails the test
// on error. The thread is never unlocked, so it dies with its goroutine and
// no other goroutine can run in the namespace by accident.
func (n *node) do(fn func() error) {
	n.t.Helper()
	if err := n.try(fn); err != nil {
		n.t.Fatal(err)
	}
}

// try is do returning fn's error.
func (n *node) try(fn func() error) error {
	h, err := netns.GetFromPath(n.ns.Path)
	if err != nil {
		return err
	}
	defer h.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// sh runs a command in the node's namespace and returns its output.
func (n *node) sh(args ...string) string {
	n.t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", n.ns.Name}, args...)...).CombinedOutput()
	if err != nil {
		n.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
