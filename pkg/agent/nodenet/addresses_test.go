package nodenet

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func addrList(s string) []netip.Prefix {
	if s == "" {
		return nil
	}
	return cidrs(strings.Fields(s)...)
}

func TestPlanAddresses(t *testing.T) {
	const node, gwA, gwB = "10.192.0.2/32", "10.192.0.1/32", "10.182.0.1/32"
	desired := addrList(node + " " + gwA + " " + gwB)
	for _, tc := range []struct {
		name                        string
		current                     string
		desired                     []netip.Prefix
		pinned                      bool
		wantFirst, wantDel, wantAdd string
	}{
		{name: "empty device", current: "", desired: desired, pinned: true,
			wantFirst: node, wantAdd: gwA + " " + gwB},
		{name: "converged", current: node + " " + gwA + " " + gwB, desired: desired, pinned: true},
		{name: "new gateway is appended", current: node + " " + gwA, desired: desired, pinned: true,
			wantAdd: gwB},
		{name: "removed subnet", current: node + " " + gwA + " " + gwB, desired: addrList(node + " " + gwA), pinned: true,
			wantDel: gwB},
		{name: "stale and foreign-prefix addresses go", current: node + " 10.9.9.9/24 " + gwA + " 10.192.0.1/16 " + gwB, desired: desired, pinned: true,
			wantDel: "10.9.9.9/24 10.192.0.1/16"},
		{name: "node address missing: added first, gateways re-added after it", current: gwA + " " + gwB, desired: desired, pinned: true,
			wantFirst: node, wantDel: gwA + " " + gwB, wantAdd: gwA + " " + gwB},
		{name: "node address missing among stale ones", current: "10.9.9.9/32 " + gwA, desired: desired, pinned: true,
			wantFirst: node, wantDel: "10.9.9.9/32 " + gwA, wantAdd: gwA + " " + gwB},
		{name: "node address not first: only those in front move", current: gwA + " " + node + " " + gwB, desired: desired, pinned: true,
			wantDel: gwA, wantAdd: gwA},
		{name: "stale in front of the node address is only deleted", current: "10.9.9.9/32 " + node + " " + gwA + " " + gwB, desired: desired, pinned: true,
			wantDel: "10.9.9.9/32"},
		{name: "not pinned: order does not matter", current: gwB + " " + gwA, desired: addrList(gwA + " " + gwB), pinned: false},
		{name: "nothing desired", current: node + " " + gwA, desired: nil, pinned: false,
			wantDel: node + " " + gwA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := planAddresses(addrList(tc.current), tc.desired, tc.pinned)
			if got := netsString(addrList(tc.wantFirst)); !a.first.IsValid() && got != "" || a.first.IsValid() && a.first.String() != got {
				t.Errorf("first %v, want %q", a.first, got)
			}
			if got := netsString(a.del); got != tc.wantDel {
				t.Errorf("del %q, want %q", got, tc.wantDel)
			}
			if got := netsString(a.add); got != tc.wantAdd {
				t.Errorf("add %q, want %q", got, tc.wantAdd)
			}
			// Applying the plan as the kernel does (delete, then append)
			// gives the desired set, with the node address first when
			// pinned (the gateways' order does not matter).
			result := addrList(tc.current)
			if a.first.IsValid() {
				result = append(result, a.first)
			}
			var afterDel []netip.Prefix
			for _, c := range result {
				if !slices.Contains(a.del, c) {
					afterDel = append(afterDel, c)
				}
			}
			if len(afterDel) == 0 && len(tc.desired) > 0 {
				t.Errorf("the device is left without addresses between delete and add")
			}
			result = append(afterDel, a.add...)
			same := len(result) == len(tc.desired)
			for _, d := range tc.desired {
				same = same && slices.Contains(result, d)
			}
			if !same || (tc.pinned && result[0] != tc.desired[0]) {
				t.Errorf("resulting addresses %q, want %q (first pinned: %v)", netsString(result), netsString(tc.desired), tc.pinned)
			}
		})
	}
}
