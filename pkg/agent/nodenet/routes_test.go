package nodenet

import (
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/netconv"
)

func route(dst string, link int, src string, proto netlink.RouteProtocol) netlink.Route {
	r := netlink.Route{LinkIndex: link, Dst: netconv.IPNet(cidr(dst)), Scope: netlink.SCOPE_LINK, Protocol: proto,
		Table: unix.RT_TABLE_MAIN, Type: unix.RTN_UNICAST}
	if src != "" {
		r.Src = net.ParseIP(src).To4()
	}
	return r
}

func routesString(rs []netlink.Route) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.Dst.String())
	}
	return strings.Join(parts, " ")
}

func TestPlanRoutes(t *testing.T) {
	const gw0, other = 7, 3
	p := plan{routes: cidrs("10.192.0.0/16", "10.182.0.0/16"), src: netip.MustParseAddr("10.192.0.2")}
	desired := desiredRoutes(p, gw0)
	ours := func(dst, src string) netlink.Route { return route(dst, gw0, src, RouteProtocol) }
	for _, tc := range []struct {
		name                                    string
		current                                 []netlink.Route
		desired                                 []netlink.Route
		wantReplace, wantDel, wantConflictWords string
	}{
		{name: "empty table", desired: desired, wantReplace: "10.192.0.0/16 10.182.0.0/16"},
		{name: "converged, foreign routes ignored",
			current: []netlink.Route{route("192.0.2.0/24", other, "", unix.RTPROT_KERNEL), ours("10.192.0.0/16", "10.192.0.2"), ours("10.182.0.0/16", "10.192.0.2")},
			desired: desired},
		{name: "missing src is replaced in place",
			current: []netlink.Route{ours("10.192.0.0/16", ""), ours("10.182.0.0/16", "10.192.0.2")},
			desired: desired, wantReplace: "10.192.0.0/16"},
		{name: "our route on another device is replaced",
			current: []netlink.Route{route("10.192.0.0/16", other, "10.192.0.2", RouteProtocol), ours("10.182.0.0/16", "10.192.0.2")},
			desired: desired, wantReplace: "10.192.0.0/16"},
		{name: "stale kubefay route deleted, foreign one kept",
			current: []netlink.Route{ours("10.192.0.0/16", "10.192.0.2"), ours("10.182.0.0/16", "10.192.0.2"), ours("10.150.0.0/24", ""), route("10.151.0.0/24", gw0, "", unix.RTPROT_STATIC)},
			desired: desired, wantDel: "10.150.0.0/24"},
		{name: "foreign route in the way is a conflict",
			current: []netlink.Route{route("10.182.0.0/16", other, "", unix.RTPROT_BOOT), ours("10.192.0.0/16", "10.192.0.2")},
			desired: desired, wantConflictWords: "10.182.0.0/16 is held by protocol 3"},
		{name: "same destination with another metric is a different route",
			current: func() []netlink.Route {
				r := ours("10.192.0.0/16", "10.192.0.2")
				r.Priority = 100
				return []netlink.Route{r, ours("10.182.0.0/16", "10.192.0.2")}
			}(),
			desired: desired, wantReplace: "10.192.0.0/16", wantDel: "10.192.0.0/16"},
		{name: "nothing desired removes all of ours",
			current: []netlink.Route{ours("10.192.0.0/16", "10.192.0.2"), route("10.151.0.0/24", gw0, "", unix.RTPROT_STATIC)},
			wantDel: "10.192.0.0/16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := planRoutes(tc.current, tc.desired)
			if got := routesString(a.replace); got != tc.wantReplace {
				t.Errorf("replace %q, want %q", got, tc.wantReplace)
			}
			if got := routesString(a.del); got != tc.wantDel {
				t.Errorf("del %q, want %q", got, tc.wantDel)
			}
			switch {
			case tc.wantConflictWords == "" && len(a.conflicts) > 0:
				t.Errorf("unexpected conflicts %v", a.conflicts)
			case tc.wantConflictWords != "" && (len(a.conflicts) != 1 || !strings.Contains(a.conflicts[0].Error(), tc.wantConflictWords)):
				t.Errorf("conflicts %v, want one containing %q", a.conflicts, tc.wantConflictWords)
			}
		})
	}
}

func TestDesiredRoutesWithoutNodeAddress(t *testing.T) {
	rs := desiredRoutes(plan{routes: cidrs("10.182.0.0/16")}, 4)
	if len(rs) != 1 || rs[0].Src != nil || rs[0].Protocol != RouteProtocol || rs[0].Scope != netlink.SCOPE_LINK || rs[0].LinkIndex != 4 {
		t.Fatalf("unexpected route %+v", rs)
	}
}
