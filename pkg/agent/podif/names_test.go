package podif

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestHostIfName(t *testing.T) {
	a := HostIfName("0123456789abcdef0123456789abcdef", "eth0")
	if len(a) != 14 || !strings.HasPrefix(a, "kf") {
		t.Errorf("name %q: want kf + 12 hex", a)
	}
	if a != HostIfName("0123456789abcdef0123456789abcdef", "eth0") {
		t.Error("not deterministic")
	}
	seen := map[string]bool{a: true}
	for _, c := range [][2]string{{"0123456789abcdef0123456789abcdef", "eth1"}, {"0123456789abcdef0123456789abcdee", "eth0"}, {"x", "eth0"}} {
		n := HostIfName(c[0], c[1])
		if seen[n] {
			t.Errorf("collision for %v: %s", c, n)
		}
		seen[n] = true
	}
}

func TestMACFromIP(t *testing.T) {
	tests := []struct {
		ip   string
		want string
	}{
		{"10.192.1.5", "0a:58:0a:c0:01:05"},
		{"fd00::1:2:304:506", "0a:58:03:04:05:06"},
	}
	for _, tt := range tests {
		if got := MACFromIP(netip.MustParseAddr(tt.ip)).String(); got != tt.want {
			t.Errorf("MACFromIP(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
	for range 20 {
		m := MACFromIP(netip.Addr{})
		if m[0]&0x01 != 0 || m[0]&0x02 == 0 {
			t.Fatalf("random MAC %s not locally administered unicast", m)
		}
	}
}

func TestNormalize(t *testing.T) {
	ip := netip.MustParsePrefix("10.192.1.5/24")
	tests := []struct {
		name    string
		spec    PodIfaceSpec
		wantErr string
	}{
		{name: "ok", spec: PodIfaceSpec{NetNSPath: "/run/netns/x", HostIfName: "kf1", IP: ip}},
		{name: "no netns", spec: PodIfaceSpec{HostIfName: "kf1", IP: ip}, wantErr: "namespace"},
		{name: "no host name", spec: PodIfaceSpec{NetNSPath: "/x", IP: ip}, wantErr: "host side"},
		{name: "host name too long", spec: PodIfaceSpec{NetNSPath: "/x", HostIfName: "kf0123456789abcd", IP: ip}, wantErr: "invalid interface name"},
		{name: "bad ifname", spec: PodIfaceSpec{NetNSPath: "/x", HostIfName: "kf1", IfName: "a/b", IP: ip}, wantErr: "invalid interface name"},
		{name: "no IP", spec: PodIfaceSpec{NetNSPath: "/x", HostIfName: "kf1"}, wantErr: "no pod IP"},
		{name: "tiny MTU", spec: PodIfaceSpec{NetNSPath: "/x", HostIfName: "kf1", IP: ip, MTU: 20}, wantErr: "MTU"},
		{name: "bad MAC", spec: PodIfaceSpec{NetNSPath: "/x", HostIfName: "kf1", IP: ip, MAC: net.HardwareAddr{1, 2}}, wantErr: "MAC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.spec
			err := s.normalize()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.IfName != "eth0" || s.MAC.String() != "0a:58:0a:c0:01:05" || !s.IP.Addr().Is4() {
					t.Errorf("defaults not applied: %+v", s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want ~%q", err, tt.wantErr)
			}
		})
	}
}

func TestGARPFrame(t *testing.T) {
	mac := net.HardwareAddr{0x0a, 0x58, 10, 192, 1, 5}
	f := garpFrame(mac, netip.MustParseAddr("10.192.1.5"))
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x58, 10, 192, 1, 5, 0x08, 0x06, // Ethernet
		0, 1, 0x08, 0, 6, 4, 0, 1, // ARP request
		0x0a, 0x58, 10, 192, 1, 5, 10, 192, 1, 5, // sender
		0, 0, 0, 0, 0, 0, 10, 192, 1, 5, // target
	}
	if !bytes.Equal(f, want) {
		t.Errorf("frame\n got % x\nwant % x", f, want)
	}
}

func TestPodRouteOnLink(t *testing.T) {
	ip := netip.MustParsePrefix("10.192.1.5/24")
	in := podRoute(3, ip, defaultDst(ip.Addr()), netip.MustParseAddr("10.192.1.1"))
	if in.Flags != 0 {
		t.Errorf("gateway in subnet flagged %d", in.Flags)
	}
	out := podRoute(3, ip, defaultDst(ip.Addr()), netip.MustParseAddr("169.254.1.1"))
	if out.Flags == 0 {
		t.Error("gateway outside subnet not on-link")
	}
	direct := podRoute(3, ip, netip.MustParsePrefix("10.96.0.0/12"), netip.Addr{})
	if direct.Gw != nil || direct.Scope == 0 {
		t.Errorf("direct route %+v", direct)
	}
}
