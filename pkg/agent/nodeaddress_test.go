package agent

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/ipam"
)

// fakeNodeAllocator answers a static request for its held address (or, when
// taken, with IPInUse) and a dynamic one with next.
type fakeNodeAllocator struct {
	taken      bool
	outOfRange bool
	fail       error
	next       netip.Addr
	static     []netip.Addr // static addresses asked for
	dynamic    int
}

func (f *fakeNodeAllocator) Allocate(_ context.Context, req ipam.Request) (ipam.Result, error) {
	if f.fail != nil {
		return ipam.Result{}, f.fail
	}
	if req.StaticIP.IsValid() {
		f.static = append(f.static, req.StaticIP)
		if f.outOfRange {
			return ipam.Result{}, &ipam.Error{Reason: ipam.ReasonIPOutOfRange, IP: req.StaticIP, Message: "not in 10.200.0.0/16"}
		}
		if f.taken {
			return ipam.Result{}, &ipam.Error{Reason: ipam.ReasonIPInUse, IP: req.StaticIP, Message: "held by pod x/y"}
		}
		return ipam.Result{IP: req.StaticIP}, nil
	}
	f.dynamic++
	return ipam.Result{IP: f.next}, nil
}

// TestHoldNodeAddress: every node sync re-claims the node's own address, so
// an address freed by the GC of a deleted Node object goes back to the node
// instead of to the next pod; a node whose address a pod took meanwhile
// moves to a new one.
func TestHoldNodeAddress(t *testing.T) {
	cur, next := netip.MustParseAddr("10.192.0.2"), netip.MustParseAddr("10.192.0.9")
	cases := []struct {
		name    string
		alloc   *fakeNodeAllocator
		cur     netip.Addr
		want    netip.Addr
		wantErr bool
		dynamic int
	}{
		{"agent start: a new address", &fakeNodeAllocator{next: next}, netip.Addr{}, next, false, 1},
		{"held or freed: the same address again", &fakeNodeAllocator{next: next}, cur, cur, false, 0},
		{"a pod took it: the node moves", &fakeNodeAllocator{next: next, taken: true}, cur, next, false, 1},
		{"defaultnet re-created with another CIDR: the node moves", &fakeNodeAllocator{next: next, fail: nil, taken: false, outOfRange: true}, cur, next, false, 1},
		{"API down: keep the address, report", &fakeNodeAllocator{fail: errors.New("connection refused")}, cur, cur, true, 0},
	}
	req := ipam.Request{Subnet: "defaultnet", Node: "n1", ContainerID: "node-n1", Interface: "gw0"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := holdNodeAddress(context.Background(), tc.alloc, req, tc.cur)
			if (err != nil) != tc.wantErr || got != tc.want || tc.alloc.dynamic != tc.dynamic {
				t.Fatalf("got %v, %v (dynamic allocations %d); want %v, error %v, dynamic %d", got, err, tc.alloc.dynamic, tc.want, tc.wantErr, tc.dynamic)
			}
			if tc.cur.IsValid() && tc.alloc.fail == nil && (len(tc.alloc.static) != 1 || tc.alloc.static[0] != tc.cur) {
				t.Errorf("static claims %v, want [%v]", tc.alloc.static, tc.cur)
			}
		})
	}
}

// TestFirstNodeAddressWaitsForTheDefaultSubnet: on a fresh install the agent
// may start before the controller created defaultnet: it waits (not ready,
// saying why) instead of exiting; other errors still end the start.
func TestFirstNodeAddressWaitsForTheDefaultSubnet(t *testing.T) {
	req := ipam.Request{Subnet: "defaultnet", Node: "n1", ContainerID: "node-n1", Interface: "gw0"}
	notFound := &ipam.Error{Reason: ipam.ReasonSubnetNotFound, Subnet: "defaultnet", Message: "subnet defaultnet not found"}
	cases := []struct {
		name     string
		errs     []error // answers before success
		wantErr  bool
		notReady int
	}{
		{"exists", nil, false, 0},
		{"created after two tries", []error{notFound, notFound}, false, 2},
		{"API down", []error{errors.New("connection refused")}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &scriptedAllocator{errs: tc.errs, ip: netip.MustParseAddr("10.192.0.2")}
			var reasons []string
			got, err := firstNodeAddress(context.Background(), a, req, time.Millisecond, func(s string) { reasons = append(reasons, s) })
			if (err != nil) != tc.wantErr || len(reasons) != tc.notReady || (err == nil && got != a.ip) {
				t.Fatalf("got %v, %v, not-ready reasons %q", got, err, reasons)
			}
		})
	}
}

// scriptedAllocator fails with errs in turn, then allocates ip.
type scriptedAllocator struct {
	errs []error
	ip   netip.Addr
}

func (s *scriptedAllocator) Allocate(context.Context, ipam.Request) (ipam.Result, error) {
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return ipam.Result{}, err
	}
	return ipam.Result{IP: s.ip}, nil
}
