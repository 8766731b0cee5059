package nodenet

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/kubefay/kubefay/pkg/ipam"
)

// TestRulesetDropsPodTunnelPackets: UDP from pods to the VXLAN and Geneve
// ports is dropped both when forwarded (to another node) and when delivered
// to this node, before any accept of the same chain.
func TestRulesetDropsPodTunnelPackets(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    Desired
		want string
	}{
		{"gw0", Desired{GatewayIface: "gw0"}, `iifname "gw0" udp dport { 4789, 6081 } drop`},
		{"other gateway name", Desired{GatewayIface: "kf-gw", Subnets: []ipam.Subnet{newNet}},
			`iifname "kf-gw" udp dport { 4789, 6081 } drop`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := knftables.NewFake(knftables.IPv4Family, TableName)
			if _, err := syncNFTables(context.Background(), fake, rulesetOf(t, tc.d)); err != nil {
				t.Fatal(err)
			}
			dump := fake.Dump()
			for _, chain := range []string{chainForward, chainInput} {
				// the drops must come before any accept of the chain
				var rules []string
				for _, l := range strings.Split(dump, "\n") {
					if p := "add rule ip kubefay " + chain + " "; strings.HasPrefix(l, p) {
						rules = append(rules, strings.TrimPrefix(l, p))
					}
				}
				bypass := `iifname "kf*" iifname != "` + tc.d.GatewayIface + `" drop`
				if len(rules) < 2 || !strings.HasPrefix(rules[0], bypass) || !strings.HasPrefix(rules[1], tc.want) {
					t.Errorf("chain %s: first rules %q, want %q then %q\n%s", chain, rules, bypass, tc.want, dump)
				}
			}
		})
	}
}
