package networkpolicy

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// portMatch is one member of a ports dimension: a protocol and a masked
// destination port; mask 0 means every port of the protocol.
type portMatch struct {
	proto      uint8
	port, mask uint16
}

func protoName(p uint8) string {
	switch p {
	case of.IPProtoTCP:
		return "tcp"
	case of.IPProtoUDP:
		return "udp"
	case of.IPProtoSCTP:
		return "sctp"
	}
	return fmt.Sprintf("proto%d", p)
}

func (p portMatch) key() string {
	if p.mask == 0 {
		return protoName(p.proto)
	}
	return fmt.Sprintf("%s=%d/0x%x", protoName(p.proto), p.port, p.mask)
}

func (p portMatch) apply(m *of.Match) {
	if p.mask == 0 {
		m.IPProto(p.proto)
		return
	}
	switch p.proto {
	case of.IPProtoTCP:
		m.TCPDstMasked(p.port, p.mask)
	case of.IPProtoUDP:
		m.UDPDstMasked(p.port, p.mask)
	case of.IPProtoSCTP:
		m.SCTPDstMasked(p.port, p.mask)
	}
}

func protoNumber(p *corev1.Protocol) (uint8, bool) {
	if p == nil {
		return of.IPProtoTCP, true
	}
	switch *p {
	case corev1.ProtocolTCP, "":
		return of.IPProtoTCP, true
	case corev1.ProtocolUDP:
		return of.IPProtoUDP, true
	case corev1.ProtocolSCTP:
		return of.IPProtoSCTP, true
	}
	return 0, false
}

// rulePort is one entry of a rule's ports list, compiled.
type rulePort struct {
	proto uint8
	named string // named port, resolved per pod
	// numeric ports as masked matches (a single mask-0 match: all ports)
	matches []portMatch
}

func compilePorts(ps []networkingv1.NetworkPolicyPort) (numeric []portMatch, named []rulePort) {
	for _, p := range ps {
		proto, ok := protoNumber(p.Protocol)
		if !ok {
			continue
		}
		switch {
		case p.Port == nil:
			numeric = append(numeric, portMatch{proto: proto})
		case p.Port.Type == intstr.String:
			named = append(named, rulePort{proto: proto, named: p.Port.StrVal})
		default:
			lo := p.Port.IntVal
			if lo <= 0 || lo > 65535 {
				continue
			}
			hi := lo
			if p.EndPort != nil && *p.EndPort > lo && *p.EndPort <= 65535 {
				hi = *p.EndPort
			}
			for _, r := range portRange(uint16(lo), uint16(hi)) {
				numeric = append(numeric, portMatch{proto, r[0], r[1]})
			}
		}
	}
	return normalizePorts(numeric), named
}

// portRange decomposes [lo, hi] into the fewest value/mask pairs.
func portRange(lo, hi uint16) [][2]uint16 {
	var out [][2]uint16
	l, h := int(lo), int(hi)
	for l <= h {
		size := 1
		// grow the block while l stays aligned to it and it fits in [l, h]
		for size < 1<<16 && l%(size*2) == 0 && l+size*2-1 <= h {
			size *= 2
		}
		out = append(out, [2]uint16{uint16(l), uint16(0xffff &^ (size - 1))})
		l += size
	}
	return out
}

// resolveNamed returns the matches of named ports on a pod's container ports.
func resolveNamed(named []rulePort, pod *Pod) []portMatch {
	var out []portMatch
	for _, n := range named {
		for _, cp := range pod.Ports {
			if cp.Name != n.named || cp.Port <= 0 || cp.Port > 65535 {
				continue
			}
			if proto, ok := protoNumber(&cp.Protocol); ok && proto == n.proto {
				out = append(out, portMatch{proto, uint16(cp.Port), 0xffff})
			}
		}
	}
	return out
}

// normalizePorts sorts and deduplicates; a protocol-wide match absorbs the
// other matches of its protocol.
func normalizePorts(ps []portMatch) []portMatch {
	if len(ps) == 0 {
		return nil
	}
	all := map[uint8]bool{}
	for _, p := range ps {
		if p.mask == 0 {
			all[p.proto] = true
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.proto != b.proto {
			return a.proto < b.proto
		}
		if a.port != b.port {
			return a.port < b.port
		}
		return a.mask < b.mask
	})
	out := ps[:0:0]
	for i, p := range ps {
		if all[p.proto] && p.mask != 0 || i > 0 && p == ps[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

func portsKey(ps []portMatch) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.key())
	}
	return b.String()
}
