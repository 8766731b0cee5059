package ipam

import (
	"net/netip"
	"testing"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestPoolTake(t *testing.T) {
	tests := []struct {
		name  string
		sn    *v1alpha1.SubNet
		block string
		use   []string
		want  []string // the addresses Take hands out until full, in order
	}{
		{name: "first block skips network and gateway", sn: subnetObj("a", "10.0.0.0/29"), block: "10.0.0.0/29",
			want: []string{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}},
		{name: "excluded and used skipped", sn: subnetObj("a", "10.0.0.0/29", func(s *v1alpha1.SubNetSpec) { s.ExcludeIPs = []string{"10.0.0.3..10.0.0.4"} }),
			block: "10.0.0.0/29", use: []string{"10.0.0.5"}, want: []string{"10.0.0.2", "10.0.0.6"}},
		{name: "inner block uses all addresses", sn: subnetObj("a", "10.0.0.0/24"), block: "10.0.0.4/30",
			want: []string{"10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"}},
		{name: "last block skips broadcast", sn: subnetObj("a", "10.0.0.0/24"), block: "10.0.0.252/30",
			want: []string{"10.0.0.252", "10.0.0.253", "10.0.0.254"}},
		{name: "block over 64 addresses", sn: subnetObj("a", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) {
			s.ExcludeIPs = []string{"10.0.0.2..10.0.0.125"}
		}), block: "10.0.0.0/25", want: []string{"10.0.0.126", "10.0.0.127"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPool(mustSubnet(t, tt.sn), netip.MustParsePrefix(tt.block))
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range tt.use {
				if err := p.Use(netip.MustParseAddr(u)); err != nil {
					t.Fatal(err)
				}
			}
			if p.Free() != len(tt.want) {
				t.Errorf("Free = %d, want %d", p.Free(), len(tt.want))
			}
			var got []string
			for {
				ip, ok := p.Take()
				if !ok {
					break
				}
				got = append(got, ip.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("took %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("took %v, want %v", got, tt.want)
				}
			}
			if p.Free() != 0 {
				t.Errorf("Free after exhausting = %d", p.Free())
			}
		})
	}
}

func TestPoolUse(t *testing.T) {
	s := mustSubnet(t, subnetObj("a", "10.0.0.0/24"))
	p, err := NewPool(s, netip.MustParsePrefix("10.0.0.0/26"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ip      string
		wantErr bool
	}{
		{"10.0.0.10", false},
		{"10.0.0.10", true}, // already taken
		{"10.0.0.1", true},  // gateway
		{"10.0.0.64", true}, // other block
	}
	for _, tt := range tests {
		if err := p.Use(netip.MustParseAddr(tt.ip)); (err != nil) != tt.wantErr {
			t.Errorf("Use(%s) = %v, want error %v", tt.ip, err, tt.wantErr)
		}
	}
	if p.IsFree(netip.MustParseAddr("10.0.0.10")) || !p.IsFree(netip.MustParseAddr("10.0.0.11")) {
		t.Error("IsFree disagrees with Use")
	}
	if _, err := NewPool(s, netip.MustParsePrefix("10.0.1.0/26")); err == nil {
		t.Error("NewPool accepted a block outside the subnet")
	}
}
