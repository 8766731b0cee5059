package nodenet

import (
	"net/netip"
	"strings"
	"testing"
)

func TestDetectMTU(t *testing.T) {
	n := newNode(t)
	// Private addresses inside the test's own namespace: nothing leaves it.
	n.veth("up0", 1400)
	n.veth("big0", 9000)
	n.sh("ip", "addr", "add", "172.31.77.2/24", "dev", "up0")
	n.sh("ip", "addr", "add", "172.31.78.2/24", "dev", "big0")

	detect := func(nodeIP string, overhead int) (mtu int, err error) {
		var ip netip.Addr
		if nodeIP != "" {
			ip = netip.MustParseAddr(nodeIP)
		}
		_ = n.try(func() error {
			mtu, err = DetectMTU(ip, overhead)
			return nil
		})
		return mtu, err
	}
	if _, err := detect("", TunnelOverhead); err == nil || !strings.Contains(err.Error(), "no IPv4 default route") {
		t.Errorf("without a default route: %v", err)
	}
	n.sh("ip", "route", "add", "default", "via", "172.31.77.1", "dev", "up0")
	n.sh("ip", "route", "add", "default", "via", "172.31.78.1", "dev", "big0", "metric", "100")
	for _, tc := range []struct {
		name     string
		nodeIP   string
		overhead int
		want     int
		wantErr  string
	}{
		{name: "default route, lowest metric", overhead: TunnelOverhead, want: 1350},
		{name: "device of the node IP", nodeIP: "172.31.78.2", overhead: TunnelOverhead, want: 8950},
		{name: "no overhead", nodeIP: "172.31.77.2", want: 1400},
		{name: "node IP nowhere", nodeIP: "172.31.99.9", overhead: 50, wantErr: "no device holds"},
		{name: "overhead too large", nodeIP: "172.31.77.2", overhead: 1350, wantErr: "too small"},
		{name: "negative overhead", overhead: -1, wantErr: "invalid tunnel overhead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := detect(tc.nodeIP, tc.overhead)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d %v, want %d", got, err, tc.want)
			}
		})
	}
	// An MTU on the default route itself lowers the result.
	n.sh("ip", "route", "replace", "default", "via", "172.31.77.1", "dev", "up0", "mtu", "1300")
	if got, err := detect("", TunnelOverhead); err != nil || got != 1250 {
		t.Errorf("default route with mtu 1300: %d %v, want 1250", got, err)
	}
}

func TestMTUOverride(t *testing.T) {
	for _, tc := range []struct {
		override int
		want     int
		wantErr  string
	}{
		{override: 1200, want: 1200},
		{override: 9000, want: 9000},
		{override: 60, wantErr: "below the IPv4 minimum"},
		{override: -5, wantErr: "negative"},
	} {
		// The node IP is never looked at when an override is given.
		got, err := MTU(tc.override, netip.MustParseAddr("198.51.100.7"), TunnelOverhead)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("MTU(%d): %v, want error %q", tc.override, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("MTU(%d) = %d %v, want %d", tc.override, got, err, tc.want)
		}
	}
}
