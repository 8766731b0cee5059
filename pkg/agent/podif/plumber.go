package podif

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Plumber does the host-side work in one network namespace. The zero value
// uses the caller's namespace (the agent's, i.e. the node's).
type Plumber struct {
	// HostNetNSPath is the namespace of the host ends; the calling
	// thread's when empty.
	HostNetNSPath string

	// createPair makes the veth pair; createPairInPodNS unless a benchmark
	// swaps it for a baseline.
	createPair pairCreator
}

// hostSide is an open handle on the host namespace.
type hostSide struct {
	h  *netlink.Handle
	ns netns.NsHandle // closed handle (-1) when the caller's namespace
}

func (p *Plumber) openHost() (*hostSide, error) {
	if p.HostNetNSPath == "" {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
		return &hostSide{h: h, ns: netns.None()}, nil
	}
	ns, err := netns.GetFromPath(p.HostNetNSPath)
	if err != nil {
		return nil, fmt.Errorf("open host netns %s: %w", p.HostNetNSPath, err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in %s: %w", p.HostNetNSPath, err)
	}
	return &hostSide{h: h, ns: ns}, nil
}

func (hs *hostSide) close() {
	hs.h.Close()
	if hs.ns.IsOpen() {
		hs.ns.Close()
	}
}

// do runs fn in the host namespace (directly when it is the caller's).
func (hs *hostSide) do(fn func() error) error {
	if !hs.ns.IsOpen() {
		return fn()
	}
	return inNetNS(hs.ns, fn)
}

// Teardown deletes the host end hostIfName, which removes the whole pair. A
// missing interface is success; an interface of that name that is not a
// veth is left alone and reported.
func (p *Plumber) Teardown(ctx context.Context, hostIfName string) error {
	if err := validIfName(hostIfName); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	host, err := p.openHost()
	if err != nil {
		return err
	}
	defer host.close()
	l, err := host.h.LinkByName(hostIfName)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up %s: %w", hostIfName, err)
	}
	if l.Type() != "veth" {
		return fmt.Errorf("%s is a %s, not a pod veth: not deleting it", hostIfName, l.Type())
	}
	if err := host.h.LinkDel(l); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", hostIfName, err)
	}
	return nil
}

// isNotFound reports whether err says a link does not exist.
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.ENODEV)
}

// HostIfExists reports whether the host namespace has an interface named
// hostIfName.
func (p *Plumber) HostIfExists(hostIfName string) (bool, error) {
	host, err := p.openHost()
	if err != nil {
		return false, err
	}
	defer host.close()
	_, err = host.h.LinkByName(hostIfName)
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// sides are open handles on both namespaces of a pod interface.
type sides struct {
	host  *hostSide
	podNS netns.NsHandle
	podH  *netlink.Handle
}

// openSides opens the host namespace and spec's pod namespace.
func (p *Plumber) openSides(spec *PodIfaceSpec) (*sides, error) {
	podNS, err := netns.GetFromPath(spec.NetNSPath)
	if err != nil {
		return nil, &NetNSError{Path: spec.NetNSPath, Err: err}
	}
	host, err := p.openHost()
	if err != nil {
		podNS.Close()
		return nil, err
	}
	podH, err := netlink.NewHandleAt(podNS, unix.NETLINK_ROUTE)
	if err != nil {
		host.close()
		podNS.Close()
		return nil, fmt.Errorf("netlink in pod netns %s: %w", spec.NetNSPath, err)
	}
	return &sides{host: host, podNS: podNS, podH: podH}, nil
}

func (s *sides) close() {
	s.podH.Close()
	s.host.close()
	s.podNS.Close()
}
