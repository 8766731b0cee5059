package trace

import (
	"fmt"
	"net/netip"
	"strings"
)

// Packet is the packet a trace injects into br-int.
type Packet struct {
	// InPort is the OpenFlow port it enters on (a pod's port, or tun0).
	InPort uint32 `json:"inPort"`
	// TunSrc and TunDst are the outer addresses of a packet entering from
	// the tunnel (InPort tun0); invalid otherwise.
	TunSrc netip.Addr `json:"tunSrc,omitzero"`
	TunDst netip.Addr `json:"tunDst,omitzero"`
	// SrcMAC and DstMAC are the Ethernet addresses.
	SrcMAC string `json:"srcMAC"`
	DstMAC string `json:"dstMAC"`
	// SrcIP and DstIP are the IPv4 addresses.
	SrcIP netip.Addr `json:"srcIP"`
	DstIP netip.Addr `json:"dstIP"`
	// Proto is tcp, udp or icmp.
	Proto string `json:"proto"`
	// SrcPort and DstPort are the TCP/UDP ports (ignored for icmp).
	SrcPort uint16 `json:"srcPort,omitempty"`
	DstPort uint16 `json:"dstPort,omitempty"`
}

// DefaultSrcPort is the source port of traced TCP and UDP packets.
const DefaultSrcPort = 40000

// Validate reports what makes p untraceable.
func (p Packet) Validate() error {
	switch {
	case p.InPort == 0:
		return fmt.Errorf("no input port")
	case !p.SrcIP.Is4() || !p.DstIP.Is4():
		return fmt.Errorf("source and destination must be IPv4 addresses")
	case p.SrcMAC == "" || p.DstMAC == "":
		return fmt.Errorf("source and destination MAC are required")
	}
	switch p.Proto {
	case "tcp", "udp", "icmp":
	default:
		return fmt.Errorf("protocol %q: want tcp, udp or icmp", p.Proto)
	}
	return nil
}

// Flow renders p in the flow syntax of ofproto/trace (the protocol first:
// its fields need it as a prerequisite).
func (p Packet) Flow() string {
	f := []string{p.Proto, fmt.Sprintf("in_port=%d", p.InPort)}
	if p.TunDst.IsValid() {
		f = append(f, "tun_id=0", "tun_src="+p.TunSrc.String(), "tun_dst="+p.TunDst.String())
	}
	f = append(f, "dl_src="+p.SrcMAC, "dl_dst="+p.DstMAC, "nw_src="+p.SrcIP.String(),
		"nw_dst="+p.DstIP.String(), "nw_ttl=64")
	switch p.Proto {
	case "icmp":
		f = append(f, "icmp_type=8", "icmp_code=0")
	default:
		sp := p.SrcPort
		if sp == 0 {
			sp = DefaultSrcPort
		}
		f = append(f, fmt.Sprintf("%s_src=%d", p.Proto, sp), fmt.Sprintf("%s_dst=%d", p.Proto, p.DstPort))
	}
	return strings.Join(f, ",")
}
