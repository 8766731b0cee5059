package ipam

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func subnetObj(name, cidr string, mod ...func(*v1alpha1.SubNetSpec)) *v1alpha1.SubNet {
	sn := &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.SubNetSpec{IPVersion: "v4", CIDR: cidr}}
	for _, m := range mod {
		m(&sn.Spec)
	}
	return sn
}

func mustSubnet(t *testing.T, sn *v1alpha1.SubNet) *Subnet {
	t.Helper()
	s, err := ParseSubnet(sn)
	if err != nil {
		t.Fatalf("ParseSubnet: %v", err)
	}
	return s
}

func TestParseIPRange(t *testing.T) {
	tests := []struct {
		in          string
		first, last string
		wantErr     string
	}{
		{in: "10.0.0.5", first: "10.0.0.5", last: "10.0.0.5"},
		{in: "10.0.0.5..10.0.0.9", first: "10.0.0.5", last: "10.0.0.9"},
		{in: " 10.0.0.5 .. 10.0.0.9 ", first: "10.0.0.5", last: "10.0.0.9"},
		{in: "10.0.0.9..10.0.0.5", wantErr: "ends before it starts"},
		{in: "10.0.0.0/24", wantErr: "not an IPv4 address"},
		{in: "fd00::1", wantErr: "not an IPv4 address"},
		{in: "10.0.0.1..x", wantErr: "not an IPv4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseIPRange(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || r.First.String() != tt.first || r.Last.String() != tt.last {
				t.Fatalf("got %v..%v, %v; want %s..%s", r.First, r.Last, err, tt.first, tt.last)
			}
		})
	}
}

func TestParseSubnet(t *testing.T) {
	tests := []struct {
		name        string
		sn          *v1alpha1.SubNet
		wantGateway string
		wantBits    int
		wantExcl    string
		wantErr     string
	}{
		{name: "defaults", sn: subnetObj("a", "10.192.0.0/16"), wantGateway: "10.192.0.1", wantBits: 26},
		{name: "unmasked cidr is masked", sn: subnetObj("a", "10.192.3.4/16"), wantGateway: "10.192.0.1", wantBits: 26},
		{name: "explicit gateway", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.Gateway = "10.0.0.254" }), wantGateway: "10.0.0.254", wantBits: 26},
		{name: "subnet smaller than a block", sn: subnetObj("a", "10.0.0.0/28"), wantGateway: "10.0.0.1", wantBits: 28},
		{name: "block size", sn: subnetObj("a", "10.0.0.0/16", func(s *v1alpha1.SubNetSpec) { s.BlockSize = 24 }), wantGateway: "10.0.0.1", wantBits: 24},
		{name: "excludes clipped and merged", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) {
			s.ExcludeIPs = []string{"10.0.0.20..10.0.0.30", "9.0.0.0..10.0.0.3", "10.0.0.25..10.0.0.40", "10.0.0.41", "10.0.1.1"}
		}), wantGateway: "10.0.0.1", wantBits: 26, wantExcl: "10.0.0.0..10.0.0.3 10.0.0.20..10.0.0.41"},
		{name: "ipv6 cidr", sn: subnetObj("a", "fd00::/64"), wantErr: "not an IPv4 CIDR"},
		{name: "bad version", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.IPVersion = "v6" }), wantErr: "not supported"},
		{name: "gateway outside", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.Gateway = "10.0.1.1" }), wantErr: "outside cidr"},
		{name: "bad exclude", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.ExcludeIPs = []string{"nope"} }), wantErr: "excludeIPs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSubnet(tt.sn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsReason(err, ReasonInvalidSubnet) {
					t.Fatalf("err = %v, want InvalidSubnet containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var excl []string
			for _, r := range s.Excluded {
				excl = append(excl, r.First.String()+".."+r.Last.String())
			}
			if s.Gateway.String() != tt.wantGateway || s.BlockBits != tt.wantBits || strings.Join(excl, " ") != tt.wantExcl {
				t.Fatalf("gateway %s bits %d excluded %q; want %s %d %q", s.Gateway, s.BlockBits, excl, tt.wantGateway, tt.wantBits, tt.wantExcl)
			}
		})
	}
}

func TestSubnetCapacityAndReserved(t *testing.T) {
	tests := []struct {
		name     string
		sn       *v1alpha1.SubNet
		capacity int64
		reasons  map[string]Reason
	}{
		{name: "/24", sn: subnetObj("a", "10.0.0.0/24"), capacity: 253, reasons: map[string]Reason{
			"10.0.0.0": ReasonIPReserved, "10.0.0.1": ReasonIPReserved, "10.0.0.255": ReasonIPReserved,
			"10.0.0.2": "", "10.0.1.0": ReasonIPOutOfRange,
		}},
		{name: "/16", sn: subnetObj("a", "10.192.0.0/16"), capacity: 65533},
		{name: "excludes overlapping specials", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) {
			s.ExcludeIPs = []string{"10.0.0.0..10.0.0.9", "10.0.0.250..10.0.0.255"}
		}), capacity: 256 - 10 - 6, reasons: map[string]Reason{"10.0.0.5": ReasonIPExcluded, "10.0.0.10": "", "10.0.0.1": ReasonIPReserved}},
		{name: "gateway elsewhere", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.Gateway = "10.0.0.254" }), capacity: 253,
			reasons: map[string]Reason{"10.0.0.1": "", "10.0.0.254": ReasonIPReserved}},
		{name: "/30", sn: subnetObj("a", "10.0.0.0/30"), capacity: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSubnet(t, tt.sn)
			if got := s.Capacity(); got != tt.capacity {
				t.Errorf("Capacity = %d, want %d", got, tt.capacity)
			}
			for ip, want := range tt.reasons {
				if got := s.ReservedReason(netip.MustParseAddr(ip)); got != want {
					t.Errorf("ReservedReason(%s) = %q, want %q", ip, got, want)
				}
			}
			// Capacity agrees with counting the pools of all blocks.
			var free int64
			for i := 0; i < s.BlockCount(); i++ {
				p, err := NewPool(s, s.BlockAt(i))
				if err != nil {
					t.Fatal(err)
				}
				free += int64(p.Free())
			}
			if free != tt.capacity {
				t.Errorf("pools hold %d free addresses, Capacity %d", free, tt.capacity)
			}
		})
	}
}

func TestBlocks(t *testing.T) {
	s := mustSubnet(t, subnetObj("defaultnet", "10.192.0.0/16"))
	if got := s.BlockCount(); got != 1024 {
		t.Errorf("BlockCount = %d", got)
	}
	for i, want := range map[int]string{0: "10.192.0.0/26", 1: "10.192.0.64/26", 1023: "10.192.255.192/26"} {
		if got := s.BlockAt(i).String(); got != want {
			t.Errorf("BlockAt(%d) = %s, want %s", i, got, want)
		}
	}
	if got := s.BlockFor(netip.MustParseAddr("10.192.1.77")).String(); got != "10.192.1.64/26" {
		t.Errorf("BlockFor = %s", got)
	}
	if got := BlockName("defaultnet", netip.MustParsePrefix("10.192.1.64/26")); got != "defaultnet.10-192-1-64-26" {
		t.Errorf("BlockName = %s", got)
	}
	long := strings.Repeat("a", 250)
	if got := BlockName(long, netip.MustParsePrefix("10.192.1.64/26")); len(got) > 253 || got == BlockName(long+"b", netip.MustParsePrefix("10.192.1.64/26")) {
		t.Errorf("BlockName of a long subnet: %q (%d chars)", got, len(got))
	}
}

// TestParseSubnetRouting: the fields the node's datapath needs are parsed
// once here (the agent used to re-apply the defaults itself).
func TestParseSubnetRouting(t *testing.T) {
	off := false
	for _, tt := range []struct {
		name        string
		mod         func(*v1alpha1.SubNetSpec)
		nat, priv   bool
		allow       string
		ignoredSpec string
	}{
		{"defaults", func(*v1alpha1.SubNetSpec) {}, true, false, "[]", "[]"},
		{"no NAT", func(s *v1alpha1.SubNetSpec) { s.NATOutgoing = &off }, false, false, "[]", "[]"},
		{"private with allowSubnets, masked", func(s *v1alpha1.SubNetSpec) {
			s.Private, s.AllowSubnets = true, []string{"10.9.1.7/24", "192.168.0.0/16"}
		}, true, true, "[10.9.1.0/24 192.168.0.0/16]", "[]"},
		{"an entry that is not a CIDR is left out, not fatal", func(s *v1alpha1.SubNetSpec) {
			s.Private, s.AllowSubnets = true, []string{"10.9.1.0/24", "nonsense"}
		}, true, true, "[10.9.1.0/24]", "[nonsense]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSubnet(t, subnetObj("a", "10.0.0.0/16", tt.mod))
			if s.NATOutgoing != tt.nat || s.Private != tt.priv || fmt.Sprint(s.AllowFrom) != tt.allow || fmt.Sprint(s.IgnoredAllowSubnets) != tt.ignoredSpec {
				t.Fatalf("NAT %v private %v allow %v ignored %v; want %v %v %s %s", s.NATOutgoing, s.Private, s.AllowFrom, s.IgnoredAllowSubnets, tt.nat, tt.priv, tt.allow, tt.ignoredSpec)
			}
		})
	}
}
