package controller

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(*testing.T, *Config)
	}{
		{name: "shipped ConfigMap", yaml: "defaultSubnet:\n  name: defaultnet\n  cidr: 10.192.0.0/16\n", check: func(t *testing.T, c *Config) {
			if c.DefaultSubnet.Name != "defaultnet" || c.DefaultSubnet.CIDR != "10.192.0.0/16" || c.MetricsAddress != "127.0.0.1:10352" ||
				c.HealthAddress != "127.0.0.1:10353" || !*c.LeaderElection.Enabled || c.LeaderElection.Name != "kubefay-controller" ||
				c.GC.Grace.Duration != 30*time.Second || c.GC.Interval.Duration != 15*time.Second || c.StatusInterval.Duration != 2*time.Second ||
				c.ClientQPS != 50 || c.ClientBurst != 100 {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "overrides", yaml: "defaultSubnet: {name: n, cidr: 10.0.0.0/8, blockSize: 24, natOutgoing: false}\ngc: {interval: 5s, grace: 1s}\nleaderElection: {enabled: false}\n", check: func(t *testing.T, c *Config) {
			if c.GC.Interval.Duration != 5*time.Second || c.GC.Grace.Duration != time.Second || *c.LeaderElection.Enabled || c.DefaultSubnet.BlockSize != 24 ||
				c.DefaultSubnet.NATOutgoing == nil || *c.DefaultSubnet.NATOutgoing {
				t.Errorf("overrides: %+v", c)
			}
		}},
		{name: "client limits", yaml: "defaultSubnet: {name: n, cidr: 10.0.0.0/8}\nclientQPS: 20\nclientBurst: 30\n", check: func(t *testing.T, c *Config) {
			if c.ClientQPS != 20 || c.ClientBurst != 30 {
				t.Errorf("client limits: %v/%v", c.ClientQPS, c.ClientBurst)
			}
		}},
		{name: "negative QPS", yaml: "defaultSubnet: {name: n, cidr: 10.0.0.0/8}\nclientQPS: -1\n", wantErr: "clientQPS"},
		{name: "unknown field", yaml: "defaultSubnet: {name: n, cidr: 10.0.0.0/8}\nbogus: 1\n", wantErr: "bogus"},
		{name: "no name", yaml: "defaultSubnet: {cidr: 10.0.0.0/8}\n", wantErr: "defaultSubnet.name"},
		{name: "bad cidr", yaml: "defaultSubnet: {name: n, cidr: 10.0.0.0}\n", wantErr: "defaultSubnet.cidr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "controller.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
