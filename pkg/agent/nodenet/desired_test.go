package nodenet

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/ipam"
)

func cidr(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func cidrs(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		out = append(out, cidr(s))
	}
	return out
}

func netsString(ns []netip.Prefix) string {
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		parts = append(parts, n.String())
	}
	return strings.Join(parts, " ")
}

func TestCollapseCIDRs(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []netip.Prefix
		want string
	}{
		{"empty", nil, ""},
		{"sorted", cidrs("10.2.0.0/16", "10.1.0.0/16"), "10.1.0.0/16 10.2.0.0/16"},
		{"duplicates", cidrs("10.1.0.0/16", "10.1.0.0/16"), "10.1.0.0/16"},
		{"nested both orders", cidrs("10.1.2.0/24", "10.1.0.0/16", "10.1.0.0/24"), "10.1.0.0/16"},
		{"adjacent kept", cidrs("10.1.1.0/24", "10.1.0.0/24"), "10.1.0.0/24 10.1.1.0/24"},
		{"inside an earlier but not the last", cidrs("10.0.0.0/8", "10.5.0.0/16", "11.0.0.0/8"), "10.0.0.0/8 11.0.0.0/8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := netsString(collapseCIDRs(tc.in)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNewPlan(t *testing.T) {
	node := netip.MustParseAddr("10.192.0.2")
	def := ipam.Subnet{Name: "defaultnet", CIDR: cidr("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1"), NATOutgoing: true}
	other := ipam.Subnet{Name: "newnet", CIDR: cidr("10.182.0.0/16"), Gateway: netip.MustParseAddr("10.182.0.1")}
	for _, tc := range []struct {
		name       string
		d          Desired
		wantErr    string
		wantAddrs  string
		wantPinned bool
		wantRoutes string
		wantNAT    string
		wantAll    string
	}{
		{
			name:       "two subnets and a service range",
			d:          Desired{GatewayIface: "gw0", NodeAddress: node, Subnets: []ipam.Subnet{def, other}, ServiceCIDRs: cidrs("10.96.0.0/12", "fd00::/108")},
			wantAddrs:  "10.192.0.2/32 10.192.0.1/32 10.182.0.1/32",
			wantPinned: true,
			wantRoutes: "10.192.0.0/16 10.182.0.0/16",
			wantNAT:    "10.192.0.0/16",
			wantAll:    "10.96.0.0/12 10.182.0.0/16 10.192.0.0/16",
		},
		{
			name:       "node address not known yet",
			d:          Desired{GatewayIface: "gw0", Subnets: []ipam.Subnet{other}},
			wantAddrs:  "10.182.0.1/32",
			wantRoutes: "10.182.0.0/16",
			wantAll:    "10.182.0.0/16",
		},
		{
			name:       "host bits and duplicates are normalised",
			d:          Desired{GatewayIface: "gw0", NodeAddress: node, Subnets: []ipam.Subnet{{Name: "a", CIDR: cidr("10.192.3.4/16"), Gateway: netip.MustParseAddr("10.192.0.1")}, def}},
			wantAddrs:  "10.192.0.2/32 10.192.0.1/32",
			wantPinned: true,
			wantRoutes: "10.192.0.0/16",
			wantNAT:    "10.192.0.0/16",
			wantAll:    "10.192.0.0/16",
		},
		{
			name:    "gateway outside its subnet",
			d:       Desired{GatewayIface: "gw0", Subnets: []ipam.Subnet{{Name: "bad", CIDR: cidr("10.1.0.0/24"), Gateway: netip.MustParseAddr("10.2.0.1")}}},
			wantErr: `subnet "bad": gateway 10.2.0.1 is not an IPv4 address inside 10.1.0.0/24`,
		},
		{
			name:    "IPv6 subnet",
			d:       Desired{GatewayIface: "gw0", Subnets: []ipam.Subnet{{Name: "v6", CIDR: cidr("fd00::/64"), Gateway: netip.MustParseAddr("fd00::1")}}},
			wantErr: "fd00::/64 is not an IPv4 CIDR",
		},
		{
			name:    "IPv6 node address",
			d:       Desired{GatewayIface: "gw0", NodeAddress: netip.MustParseAddr("fd00::2")},
			wantErr: "node address fd00::2 is not IPv4",
		},
		{
			name:    "no interface and bad MTU",
			d:       Desired{MTU: 20},
			wantErr: "MTU 20 is invalid",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newPlan(tc.d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct{ what, got, want string }{
				{"addresses", netsString(p.addrs), tc.wantAddrs},
				{"routes", netsString(p.routes), tc.wantRoutes},
				{"nat sources", netsString(p.rules.natSources), tc.wantNAT},
				{"cluster cidrs", netsString(p.rules.clusterCIDRs), tc.wantAll},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
			if p.primaryPinned != tc.wantPinned {
				t.Errorf("pinned %v, want %v", p.primaryPinned, tc.wantPinned)
			}
		})
	}
}
