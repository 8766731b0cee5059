package podif

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// pairRequest is what a pairCreator needs.
type pairRequest struct {
	host     *hostSide
	podH     *netlink.Handle
	podNS    netns.NsHandle
	hostName string
	podName  string
	hostMAC  net.HardwareAddr
	podMAC   net.HardwareAddr
	mtu      int
}

// pairCreator creates the veth pair and returns the host end (with its
// index) and the pod end (as seen in the pod namespace).
type pairCreator func(r *pairRequest) (hostLink, podLink netlink.Link, err error)

// createPairInPodNS creates the pair with one RTM_NEWLINK from the host
// namespace, the peer being born in the pod namespace under its final name
// (IFLA_NET_NS_FD on the peer). No temporary name, no move, no rename.
func createPairInPodNS(r *pairRequest) (netlink.Link, netlink.Link, error) {
	attrs := netlink.NewLinkAttrs()
	attrs.Name = r.hostName
	attrs.HardwareAddr = r.hostMAC
	attrs.MTU = r.mtu
	veth := netlink.NewVeth(attrs)
	veth.PeerName = r.podName
	veth.PeerHardwareAddr = r.podMAC
	veth.PeerNamespace = netlink.NsFd(r.podNS)
	if err := r.host.h.LinkAdd(veth); err != nil {
		return nil, nil, fmt.Errorf("create veth %s/%s: %w", r.hostName, r.podName, err)
	}
	podLink, err := r.podH.LinkByName(r.podName)
	if err != nil {
		return veth, nil, fmt.Errorf("find %s in pod netns: %w", r.podName, err)
	}
	if veth.Index == 0 {
		veth.Index = podLink.Attrs().ParentIndex
	}
	return veth, podLink, nil
}

// pairedWith returns the pod end of hostLink if hostLink is a veth whose
// peer is podName in the pod namespace.
func pairedWith(host *hostSide, hostLink netlink.Link, podH *netlink.Handle, podNS netns.NsHandle, podName string) (netlink.Link, bool) {
	if hostLink.Type() != "veth" {
		return nil, false
	}
	podLink, err := podH.LinkByName(podName)
	if err != nil || podLink.Type() != "veth" {
		return nil, false
	}
	ha, pa := hostLink.Attrs(), podLink.Attrs()
	if pa.ParentIndex != ha.Index || ha.ParentIndex != pa.Index || ha.NetNsID < 0 {
		return nil, false
	}
	id, err := host.h.GetNetNsIdByFd(int(podNS))
	if err != nil || id != ha.NetNsID {
		return nil, false
	}
	return podLink, true
}
