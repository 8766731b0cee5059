package config

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, doc, wantErr string
		check              func(t *testing.T, a Agent)
	}{
		{name: "empty gives defaults", doc: "", check: func(t *testing.T, a Agent) {
			if a.DatapathType != DatapathSystem || a.TunnelType != TunnelVXLAN || a.Bridge != "br-int" || a.CNISocket != "/var/run/kubefay/cni.sock" {
				t.Fatalf("defaults not applied: %+v", a)
			}
		}},
		{name: "netdev geneve", doc: "datapathType: netdev\ntunnelType: geneve\nmtu: 1400\n", check: func(t *testing.T, a Agent) {
			if a.DatapathType != DatapathNetdev || a.TunnelType != TunnelGeneve || a.MTU != 1400 {
				t.Fatalf("got %+v", a)
			}
		}},
		{name: "bad datapath", doc: "datapathType: dpdk\n", wantErr: `datapathType "dpdk"`},
		{name: "bad tunnel", doc: "tunnelType: gre\n", wantErr: `tunnelType "gre"`},
		{name: "bad mtu", doc: "mtu: 100\n", wantErr: "mtu 100"},
		{name: "bad service cidr", doc: "serviceCIDRs: [10.96.0.0]\n", wantErr: `"10.96.0.0" is not a CIDR`},
		{name: "secure metrics", doc: "secureMetricsAddr: \":10349\"\n", check: func(t *testing.T, a Agent) {
			if a.SecureMetricsAddr != ":10349" || a.MetricsAddr != "127.0.0.1:10351" {
				t.Fatalf("got %+v", a)
			}
		}},
		{name: "bad secure metrics address", doc: "secureMetricsAddr: \"10349\"\n", wantErr: `secureMetricsAddr "10349"`},
		{name: "unknown field", doc: "datapath: netdev\n", wantErr: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Parse([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
		})
	}
}
