package pipeline

import (
	"regexp"
	"strings"
	"testing"
)

var (
	tunInPort = regexp.MustCompile(`[ ,]in_port=1[, ]`)
	tunSrc    = regexp.MustCompile(`tun_src=([0-9.]+)`)
)

// tunnelVerdict says whether the node's Classifier lets an IP packet from
// tun0 with outer source src into the pipeline: the highest-priority flow
// for in_port=tun0 that matches src (no tun_src, or the same) decides.
func tunnelVerdict(t *testing.T, src string) (accepted bool, by string) {
	t.Helper()
	best := -1
	for _, f := range nodeFlows(3) {
		s := f.String()
		if f.Table != Classifier.ID || !tunInPort.MatchString(s) || int(f.Priority) <= best {
			continue
		}
		if m := tunSrc.FindStringSubmatch(s); m != nil && m[1] != src {
			continue
		}
		best, accepted, by = int(f.Priority), f.ActionsString() != "drop", s
	}
	if best < 0 {
		return false, "table miss"
	}
	return accepted, by
}

// TestTunnelClassifierNeedsKnownNode: tun0 takes packets from any address
// (remote_ip=flow), so the Classifier admits only the underlay addresses of
// the other nodes; anything else (a forged VXLAN/Geneve datagram from a pod
// or a foreign host) is dropped before conntrack.
func TestTunnelClassifierNeedsKnownNode(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		accept    bool
	}{
		{"remote node of a block", "198.51.100.12", true},
		{"remote node of a static IP", "198.51.100.13", true},
		{"unknown underlay address", "198.51.100.99", false},
		{"pod address", "10.192.0.10", false},
		{"node's own gw0 address", "10.192.0.2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, by := tunnelVerdict(t, tc.src); got != tc.accept {
				t.Errorf("tun_src=%s: accepted=%v, want %v (decided by %s)", tc.src, got, tc.accept, by)
			}
		})
	}
}

var (
	routerDst = regexp.MustCompile(`dl_dst=0a:00:00:00:00:01\b`)
	nwDst     = regexp.MustCompile(`nw_dst=([0-9./]+)`)
)

// TestLimitedBroadcastNotRouted: a pod's packet to 255.255.255.255 sent to
// the router MAC (a crafted DHCPDISCOVER from its own address) is dropped in
// L3Forwarding instead of going to the host through gw0 (where the node's
// sockets on 0.0.0.0 would receive it).
func TestLimitedBroadcastNotRouted(t *testing.T) {
	best, decided := -1, ""
	for _, f := range nodeFlows(3) {
		s := f.String()
		if f.Table != L3Forwarding.ID || !routerDst.MatchString(s) || int(f.Priority) <= best {
			continue
		}
		if m := nwDst.FindStringSubmatch(s); m != nil && m[1] != "255.255.255.255" {
			continue
		}
		best, decided = int(f.Priority), s
	}
	if !strings.HasSuffix(decided, "actions=drop") {
		t.Fatalf("255.255.255.255 to the router MAC is decided by %q, want a drop", decided)
	}
}
