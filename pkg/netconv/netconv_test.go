package netconv

import (
	"net"
	"net/netip"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   *net.IPNet
		want string
	}{
		{"nil", nil, "invalid Prefix"},
		{"IPv4 host bits kept", &net.IPNet{IP: net.IP{10, 1, 2, 3}, Mask: net.CIDRMask(24, 32)}, "10.1.2.3/24"},
		{"IPv4-mapped", &net.IPNet{IP: net.ParseIP("10.1.2.3"), Mask: net.CIDRMask(120, 128)}, "10.1.2.3/24"},
		{"IPv4 in 16 bytes, 4-byte mask", &net.IPNet{IP: net.ParseIP("10.1.2.3"), Mask: net.CIDRMask(32, 32)}, "10.1.2.3/32"},
		{"IPv6", &net.IPNet{IP: net.ParseIP("fd00::5"), Mask: net.CIDRMask(64, 128)}, "fd00::5/64"},
		{"non-contiguous mask", &net.IPNet{IP: net.IP{10, 0, 0, 1}, Mask: net.IPMask{255, 0, 255, 0}}, "invalid Prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Prefix(tc.in)
			if p.String() != tc.want {
				t.Fatalf("Prefix = %s, want %s", p, tc.want)
			}
			if p.IsValid() {
				if back := IPNet(p); back.String() != tc.want || Prefix(back) != p {
					t.Errorf("IPNet(%s) = %s", p, back)
				}
			}
		})
	}
	if a := Addr(nil); a.IsValid() {
		t.Errorf("Addr(nil) = %s", a)
	}
	if a := Addr(net.ParseIP("10.0.0.1")); a != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("Addr of a 16-byte IPv4 = %s", a)
	}
}
