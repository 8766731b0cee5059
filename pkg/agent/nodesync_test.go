package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
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
			s := &NodeSync{Node: "n1", GatewayPort: "gw0", GatewayMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Flows: flows,
				HostNetwork:   func(context.Context, nodenet.Desired) error { return tc.host },
				SubnetProblem: func(sn, msg string) { problems = append(problems, sn+": "+msg) }}
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
		})
	}
}
