package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/nodenet"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// TestNodeSyncHostNetworkFailures: one SubNet whose route clashes with a
// foreign route (docker0's 172.17.0.0/16) is reported and does not stop the
// node: every flow is installed and the sync succeeds. Any other host
// failure fails the sync, but only after the flows are installed.
func TestNodeSyncHostNetworkFailures(t *testing.T) {
	view := ClusterView{Subnets: []SubnetView{
		{Name: "defaultnet", CIDR: netip.MustParsePrefix("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1")},
		{Name: "clash", CIDR: netip.MustParsePrefix("172.17.0.0/16"), Gateway: netip.MustParseAddr("172.17.0.1")},
	}}
	clash := &nodenet.RouteConflict{Dst: "172.17.0.0/16", Protocol: 3, Dev: "docker0"}
	cases := []struct {
		name     string
		host     error
		wantErr  string
		problems []string
	}{
		{"all programmed", nil, "", nil},
		{"one subnet's route is foreign", errors.Join(clash), "", []string{"clash: node n1 cannot route SubNet clash: route to 172.17.0.0/16 is held by protocol 3 (dev docker0)"}},
		{"nftables broken too", errors.Join(clash, errors.New("nft: no such file")), "nft: no such file", []string{"clash: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			flows := flowsync.New[*of.Flow](nullSwitch{})
			var problems []string
			var sets []map[string]string
			s := &NodeSync{Node: "n1", GatewayPort: "gw0", GatewayMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Flows: flows,
				HostNetwork:    func(context.Context, nodenet.Desired) error { return tc.host },
				SubnetProblem:  func(sn, msg string) { problems = append(problems, sn+": "+msg) },
				SubnetProblems: func(m map[string]string) error { sets = append(sets, m); return nil }}
			err := s.Sync(context.Background(), view)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Sync: %v, want error %q", err, tc.wantErr)
			}
			var subnetFlows int
			for _, f := range flows.Desired() {
				if strings.Contains(f.String(), "172.17.0.0/16") {
					subnetFlows++
				}
			}
			if subnetFlows == 0 || len(flows.Desired()) < 10 {
				t.Errorf("flows not installed: %d in all, %d of the clashing subnet", len(flows.Desired()), subnetFlows)
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("reported %q, want %d problems", problems, len(tc.problems))
			}
			for i, p := range tc.problems {
				if !strings.HasPrefix(problems[i], p) {
					t.Errorf("problem %q, want prefix %q", problems[i], p)
				}
			}
			if err := s.Sync(context.Background(), view); (err == nil) != (tc.wantErr == "") {
				t.Fatalf("second Sync: %v", err)
			}
			if len(problems) != len(tc.problems) {
				t.Errorf("the same problem was reported again: %q", problems)
			}
			// the set is published once (also when empty: it clears what a
			// previous run left), and not again while it stays the same
			if len(sets) != 1 || len(sets[0]) != len(tc.problems) {
				t.Fatalf("published sets %q, want one with %d problems", sets, len(tc.problems))
			}
			for _, p := range tc.problems {
				name, _, _ := strings.Cut(p, ": ")
				if !strings.Contains(sets[0][name], "172.17.0.0/16") || !strings.Contains(sets[0][name], "docker0") {
					t.Errorf("published problem of %s: %q, want the clashing route", name, sets[0][name])
				}
			}
		})
	}
}

// TestNodeSyncPublishesProblemSet: SubnetProblems gets the whole set of
// SubNets the node cannot serve each time it changes, the empty set when
// the last conflict is gone, and again on the next sync after it failed.
func TestNodeSyncPublishesProblemSet(t *testing.T) {
	view := ClusterView{Subnets: []SubnetView{
		{Name: "defaultnet", CIDR: netip.MustParsePrefix("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1")},
		{Name: "clash", CIDR: netip.MustParsePrefix("172.17.0.0/16"), Gateway: netip.MustParseAddr("172.17.0.1")},
		{Name: "clash2", CIDR: netip.MustParsePrefix("172.18.0.0/16"), Gateway: netip.MustParseAddr("172.18.0.1")},
	}}
	docker0 := &nodenet.RouteConflict{Dst: "172.17.0.0/16", Protocol: 3, Dev: "docker0"}
	br := &nodenet.RouteConflict{Dst: "172.18.0.0/16", Protocol: 4, Dev: "br-x"}
	var host error
	var sets []string
	fail := false
	s := &NodeSync{Node: "n1", GatewayPort: "gw0", GatewayMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1},
		Flows:       flowsync.New[*of.Flow](nullSwitch{}),
		HostNetwork: func(context.Context, nodenet.Desired) error { return host },
		SubnetProblems: func(m map[string]string) error {
			var names []string
			for n := range m {
				names = append(names, n)
			}
			sort.Strings(names)
			sets = append(sets, strings.Join(names, ","))
			if fail {
				return errors.New("apiserver away")
			}
			return nil
		}}
	steps := []struct {
		name string
		host error
		fail bool
		want []string // every set published so far
	}{
		{"docker0 holds clash", errors.Join(docker0), false, []string{"clash"}},
		{"unchanged", errors.Join(docker0), false, []string{"clash"}},
		{"a second conflict", errors.Join(docker0, br), false, []string{"clash", "clash,clash2"}},
		{"one resolved, publishing fails", errors.Join(br), true, []string{"clash", "clash,clash2", "clash2"}},
		{"unchanged, retried", errors.Join(br), false, []string{"clash", "clash,clash2", "clash2", "clash2"}},
		{"unchanged, not again", errors.Join(br), false, []string{"clash", "clash,clash2", "clash2", "clash2"}},
		{"all resolved", nil, false, []string{"clash", "clash,clash2", "clash2", "clash2", ""}},
		{"still none", nil, false, []string{"clash", "clash,clash2", "clash2", "clash2", ""}},
	}
	for _, st := range steps {
		host, fail = st.host, st.fail
		if err := s.Sync(context.Background(), view); err != nil {
			t.Fatalf("%s: Sync: %v", st.name, err)
		}
		if strings.Join(sets, "|") != strings.Join(st.want, "|") {
			t.Fatalf("%s: published %q, want %q", st.name, sets, st.want)
		}
	}
}
