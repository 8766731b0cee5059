package scale

import (
	"net/netip"
	"testing"
)

// TestLayout checks the cluster shapes without a cluster: SubNets and node
// podCIDRs stay inside the lab's leak guard (10.128.0.0/10) without
// overlapping, and every SubNet has a /26 block for each node using it.
func TestLayout(t *testing.T) {
	guard := netip.MustParsePrefix("10.128.0.0/10")
	for _, s := range []size{sizes["short"], sizes["full"], {"odd", 37, 4000, 9, 100}} {
		t.Run(s.name, func(t *testing.T) {
			var prefixes []netip.Prefix
			for k := 0; k < s.subnets; k++ {
				prefixes = append(prefixes, netip.MustParsePrefix(subnetCIDR(k)))
			}
			for n := 0; n < s.nodes; n++ {
				prefixes = append(prefixes, netip.MustParsePrefix(node(n).Spec.PodCIDR))
			}
			for i, p := range prefixes {
				if !guard.Contains(p.Addr()) || p.Bits() < guard.Bits() {
					t.Errorf("%s outside %s", p, guard)
				}
				for _, q := range prefixes[:i] {
					if p.Overlaps(q) {
						t.Errorf("%s overlaps %s", p, q)
					}
				}
			}
			perBlock := map[[2]int]int{}      // (node, subnet) -> pods
			nodesOf := map[int]map[int]bool{} // subnet -> nodes
			for i := 0; i < s.pods; i++ {
				n, k := s.podNode(i), s.podSubnet(i)
				perBlock[[2]int{n, k}]++
				if nodesOf[k] == nil {
					nodesOf[k] = map[int]bool{}
				}
				nodesOf[k][n] = true
			}
			for key, pods := range perBlock {
				if pods > 61 { // a /26 less network, broadcast and (in the first block) gateway
					t.Errorf("node %d has %d pods in subnet %d: more than a /26", key[0], pods, key[1])
				}
			}
			for k, ns := range nodesOf {
				if len(ns) > 64 { // /26 blocks in a /20
					t.Errorf("subnet %d used by %d nodes: more blocks than a /20 holds", k, len(ns))
				}
			}
		})
	}
}

func TestSizeFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want size
		err  bool
	}{
		{"", sizes["short"], false},
		{"full", sizes["full"], false},
		{"300:15000", size{"300:15000", 300, 15000, 75, 1500}, false},
		{"3:100", size{}, true},
		{"300", size{}, true},
	} {
		t.Setenv(EnvSize, tc.env)
		got, err := sizeFromEnv()
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%s=%q: %+v, %v; want %+v (error %v)", EnvSize, tc.env, got, err, tc.want, tc.err)
		}
	}
}
