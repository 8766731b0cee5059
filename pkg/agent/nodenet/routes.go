package nodenet

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/kubefay/kubefay/pkg/netconv"
)

// RouteProtocol is the routing protocol number that marks kubefay's routes
// (0x4b, ASCII 'K'). Reconcile and Remove only change routes carrying it.
const RouteProtocol netlink.RouteProtocol = 0x4b

// routeKey is what identifies an IPv4 route in a table: two routes with the
// same key cannot coexist (without "ip route append").
type routeKey struct {
	dst       string
	tos, prio int
}

func keyOf(r netlink.Route) routeKey {
	dst := "0.0.0.0/0"
	if r.Dst != nil {
		dst = r.Dst.String()
	}
	return routeKey{dst: dst, tos: r.Tos, prio: r.Priority}
}

// desiredRoutes renders p's routes for the device with index link.
func desiredRoutes(p plan, link int) []netlink.Route {
	out := make([]netlink.Route, 0, len(p.routes))
	var src net.IP
	if p.src.IsValid() {
		src = p.src.AsSlice()
	}
	for _, dst := range p.routes {
		out = append(out, netlink.Route{
			LinkIndex: link,
			Dst:       netconv.IPNet(dst),
			Src:       src,
			Scope:     netlink.SCOPE_LINK,
			Protocol:  RouteProtocol,
			Table:     unix.RT_TABLE_MAIN,
			Type:      unix.RTN_UNICAST,
			Family:    netlink.FAMILY_V4,
		})
	}
	return out
}

// routeActions is what turns the main table into the desired one.
type routeActions struct {
	replace   []netlink.Route // add, or change a kubefay route in place
	del       []netlink.Route // kubefay routes nobody wants
	conflicts []error         // foreign routes in the way of desired ones (*RouteConflict)
}

// planRoutes compares all IPv4 routes of the main table with the desired
// ones. A desired route already present unchanged costs nothing; a kubefay
// route with the same key but other attributes is replaced in place (no
// moment without a route); a foreign route with the same key is a conflict
// and stays. Kubefay routes with keys nobody wants are deleted.
func planRoutes(current, desired []netlink.Route) routeActions {
	var a routeActions
	wanted := map[routeKey]bool{}
	for _, d := range desired {
		k := keyOf(d)
		wanted[k] = true
		var same, foreign *netlink.Route
		for i := range current {
			c := &current[i]
			if keyOf(*c) != k {
				continue
			}
			if c.Protocol != RouteProtocol {
				foreign = c
			} else if routeEqual(*c, d) {
				same = c
			}
		}
		switch {
		case same != nil:
		case foreign != nil:
			a.conflicts = append(a.conflicts, &RouteConflict{Dst: k.dst, Protocol: int(foreign.Protocol), LinkIndex: foreign.LinkIndex})
		default:
			a.replace = append(a.replace, d)
		}
	}
	for _, c := range current {
		if c.Protocol == RouteProtocol && !wanted[keyOf(c)] {
			a.del = append(a.del, c)
		}
	}
	return a
}

// routeEqual compares the attributes kubefay sets.
func routeEqual(a, b netlink.Route) bool {
	return keyOf(a) == keyOf(b) && a.LinkIndex == b.LinkIndex && a.Src.Equal(b.Src) &&
		a.Scope == b.Scope && a.Protocol == b.Protocol && a.Gw == nil && b.Gw == nil &&
		len(a.MultiPath) == 0 && len(b.MultiPath) == 0 && normType(a.Type) == normType(b.Type)
}

func normType(t int) int {
	if t == 0 {
		return unix.RTN_UNICAST
	}
	return t
}

// listMainV4Routes returns every IPv4 route of the main table.
func listMainV4Routes() ([]netlink.Route, error) {
	var routes []netlink.Route
	err := retryDump(func() (err error) {
		routes, err = netlink.RouteListFiltered(netlink.FAMILY_V4,
			&netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	return routes, nil
}

// syncRoutes makes kubefay's routes in the main table equal to p.routes.
func syncRoutes(link netlink.Link, p plan, log changeLog) error {
	current, err := listMainV4Routes()
	if err != nil {
		return err
	}
	acts := planRoutes(current, desiredRoutes(p, link.Attrs().Index))
	errs := acts.conflicts
	for _, e := range errs {
		if c, ok := e.(*RouteConflict); ok {
			if l, err := netlink.LinkByIndex(c.LinkIndex); err == nil {
				c.Dev = l.Attrs().Name
			}
		}
	}
	for _, r := range acts.replace {
		if err := netlink.RouteReplace(&r); err != nil {
			errs = append(errs, fmt.Errorf("installing route %s dev %s: %w", r.Dst, link.Attrs().Name, err))
			continue
		}
		log("route replace %s dev %s src %v proto %d", r.Dst, link.Attrs().Name, r.Src, RouteProtocol)
	}
	for _, r := range acts.del {
		if err := delRoute(r); err != nil {
			errs = append(errs, err)
			continue
		}
		log("route del %s dev index %d proto %d", r.Dst, r.LinkIndex, RouteProtocol)
	}
	return errors.Join(errs...)
}

// delRoute deletes r; a route already gone is not an error.
func delRoute(r netlink.Route) error {
	err := netlink.RouteDel(&r)
	if err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("deleting route %s: %w", describeDst(r.Dst), err)
	}
	return nil
}

func describeDst(n *net.IPNet) string {
	if n == nil {
		return "default"
	}
	return n.String()
}

// RouteConflict is a route of another owner (docker0's 172.17.0.0/16, a
// static route...) holding the destination of a SubNet route: kubefay leaves
// it, and that SubNet cannot be reached from this host.
type RouteConflict struct {
	Dst       string // the SubNet CIDR
	Protocol  int    // the holder's routing protocol
	LinkIndex int
	Dev       string // the holder's device, when known
}

func (c *RouteConflict) Error() string {
	dev := "dev " + c.Dev
	switch {
	case c.Dev != "":
	case c.LinkIndex == 0:
		dev = "no device: blackhole, unreachable or prohibit"
	default:
		dev = fmt.Sprintf("dev index %d", c.LinkIndex)
	}
	return fmt.Sprintf("route to %s is held by protocol %d (%s), not kubefay: not replacing it", c.Dst, c.Protocol, dev)
}

// SplitRouteConflicts separates the route conflicts in err (a joined error
// of Apply) from every other failure (nil when there is none).
func SplitRouteConflicts(err error) (conflicts []*RouteConflict, rest error) {
	var others []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if c, ok := e.(*RouteConflict); ok {
			conflicts = append(conflicts, c)
			return
		}
		others = append(others, e)
	}
	if err != nil {
		walk(err)
	}
	return conflicts, errors.Join(others...)
}
