package agent

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

func TestRemoteBlocks(t *testing.T) {
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	v := ClusterView{
		NodeIPs: map[string]netip.Addr{"n1": a("198.51.100.11"), "n2": a("198.51.100.12"), "n3": a("198.51.100.13")},
		Blocks: []BlockView{
			{CIDR: p("10.192.0.0/26"), Node: "n1", Elsewhere: map[netip.Addr]string{a("10.192.0.9"): "n3"}},
			{CIDR: p("10.192.0.64/26"), Node: "n2", Elsewhere: map[netip.Addr]string{a("10.192.0.70"): "n1", a("10.192.0.71"): "n3"}},
			{CIDR: p("10.192.0.128/26"), Node: "gone"}, // node without an address: skipped
		},
	}
	tests := []struct {
		me   string
		want []pipeline.RemoteBlock
	}{
		{"n1", []pipeline.RemoteBlock{
			// n1 owns 10.192.0.0/26 but .9 lives on n3
			{CIDR: p("10.192.0.64/26"), NodeIP: a("198.51.100.12")},
			{CIDR: p("10.192.0.71/32"), NodeIP: a("198.51.100.13")},
			{CIDR: p("10.192.0.9/32"), NodeIP: a("198.51.100.13")},
		}},
		{"n3", []pipeline.RemoteBlock{
			{CIDR: p("10.192.0.0/26"), NodeIP: a("198.51.100.11")},
			{CIDR: p("10.192.0.64/26"), NodeIP: a("198.51.100.12")},
			{CIDR: p("10.192.0.70/32"), NodeIP: a("198.51.100.11")},
		}},
	}
	for _, tt := range tests {
		if got := v.RemoteBlocks(tt.me); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RemoteBlocks(%s) =\n%v\nwant\n%v", tt.me, got, tt.want)
		}
	}
}

func TestRemoteNodeIPs(t *testing.T) {
	a := netip.MustParseAddr
	v := ClusterView{NodeIPs: map[string]netip.Addr{"n1": a("198.51.100.11"), "n3": a("198.51.100.13"),
		"n2": a("198.51.100.12"), "n2-renamed": a("198.51.100.12"), "n1-alias": a("198.51.100.11"), "bad": {}}}
	tests := []struct {
		me   string
		want []netip.Addr
	}{
		// a node sharing my address is me: never a tunnel source
		{"n1", []netip.Addr{a("198.51.100.12"), a("198.51.100.13")}},
		{"n3", []netip.Addr{a("198.51.100.11"), a("198.51.100.12")}},
		{"unknown", []netip.Addr{a("198.51.100.11"), a("198.51.100.12"), a("198.51.100.13")}},
	}
	for _, tt := range tests {
		if got := v.RemoteNodeIPs(tt.me); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RemoteNodeIPs(%s) = %v, want %v", tt.me, got, tt.want)
		}
	}
}
