package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestSubnetShow(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{{
		name: "default output: node gateways, static address in another node's block",
		args: []string{"subnet", "show", "defaultnet"},
		want: dedent(`
Name:            defaultnet
CIDR:            10.192.0.0/16
Gateway:         10.192.0.1
Block size:      /26
Exclude IPs:     -
NAT outgoing:    true
Private:         false
Allow subnets:   -
Namespaces:      -

Pool:
  Capacity:    65533
  Used:        4
  Available:   65529
  Excluded:    0
  Usage:       0.0%

Blocks (2):
  CIDR             NODE     USED   FREE
  10.192.0.0/26    node-a   3/64   59
  10.192.0.64/26   node-b   1/64   63

Used IPs (4):
  IP            NODE     NAMESPACE   POD                 CONTAINER      INTERFACE   STATIC   AGE
  10.192.0.2    node-a   -           (node node-a gw0)   node-node-a    gw0         no       2d
  10.192.0.3    node-a   default     web-1               0123456789ab   eth0        no       5m
  10.192.0.10   node-b   default     db-0                c-db-0         eth0        yes      <unknown>
  10.192.0.65   node-b   -           (node node-b gw0)   node-node-b    gw0         no       47h
`),
	}, {
		name: "wide output, excluded range, stale status",
		args: []string{"subnet", "show", "newnet", "-o", "wide"},
		want: dedent(`
Name:            newnet
CIDR:            10.182.0.0/24
Gateway:         10.182.0.254
Block size:      /26
Exclude IPs:     10.182.0.10..10.182.0.20
NAT outgoing:    false
Private:         true
Allow subnets:   10.192.0.0/16
Namespaces:      team-a,team-b,team-c

Pool:
  Capacity:    242
  Used:        1
  Available:   241
  Excluded:    11
  Usage:       0.4%
  Status:      used 0, available 242 (not yet updated by the controller)

Blocks (1):
  CIDR            NODE     USED   FREE
  10.182.0.0/26   node-a   1/64   51

Used IPs (1):
  IP           NODE     NAMESPACE   POD   CONTAINER   INTERFACE   STATIC   AGE   POD UID   BLOCK                  CREATED
  10.182.0.2   node-a   team-a      app   c-app       eth0        no       90s   -         newnet.10-182-0-0-26   2026-01-02T11:58:30Z
`),
	}, {
		name:    "unknown subnet",
		args:    []string{"subnet", "show", "nope"},
		wantErr: `subnet "nope" not found`,
	}, {
		name:    "unknown output format",
		args:    []string{"subnet", "show", "newnet", "-o", "yaml"},
		wantErr: `unknown output format "yaml"`,
	}, {
		name:    "missing name",
		args:    []string{"subnet", "show"},
		wantErr: "accepts 1 arg(s), received 0",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectRun(t, tt.args, tt.want, tt.wantErr)
		})
	}
}

func TestSubnetShowJSON(t *testing.T) {
	got, _, err := run(t, fixture(), "subnet", "show", "defaultnet", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var r SubnetReport
	if err := json.Unmarshal([]byte(got), &r); err != nil {
		t.Fatalf("output is not a SubnetReport: %v\n%s", err, got)
	}
	if r.Name != "defaultnet" || r.Gateway != "10.192.0.1" || r.BlockSize != 26 {
		t.Errorf("name/gateway/blockSize = %s/%s/%d", r.Name, r.Gateway, r.BlockSize)
	}
	if want := (PoolUsage{Capacity: 65533, Used: 4, Available: 65529, Percent: 400.0 / 65533}); r.Pool != want {
		t.Errorf("pool %+v, want %+v", r.Pool, want)
	}
	var ips []string
	for _, u := range r.UsedIPs {
		ips = append(ips, fmt.Sprintf("%s:%s/%s:gw=%v", u.IP, u.Namespace, u.Pod, u.NodeGateway))
	}
	want := "10.192.0.2:/:gw=true 10.192.0.3:default/web-1:gw=false 10.192.0.10:default/db-0:gw=false 10.192.0.65:/:gw=true"
	if strings.Join(ips, " ") != want {
		t.Errorf("usedIPs %v, want %s", ips, want)
	}
}

// TestSubnetShowUnbounded: show lists every allocation, not the first
// MaxUsedIPsInStatus the SubNet's status keeps, in address order.
func TestSubnetShowUnbounded(t *testing.T) {
	const n = v1alpha1.MaxUsedIPsInStatus + 44
	objs := []client.Object{fixture()[0]}
	for b := 0; b*64 < n+8; b++ {
		allocs := map[string]v1alpha1.Allocation{}
		for i := 2; i < 62 && b*60+i-2 < n; i++ {
			allocs[fmt.Sprintf("10.192.%d.%d", b/4, (b%4)*64+i)] = v1alpha1.Allocation{Namespace: "load", Pod: fmt.Sprintf("p%d", b*60+i-2), ContainerID: "c", Interface: "eth0"}
		}
		if len(allocs) > 0 {
			objs = append(objs, block(fmt.Sprintf("defaultnet.b%d", b), "defaultnet", fmt.Sprintf("10.192.%d.%d/26", b/4, (b%4)*64), "node-a", allocs))
		}
	}
	got, _, err := run(t, objs, "subnet", "show", "defaultnet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, fmt.Sprintf("Used IPs (%d):\n", n)) {
		t.Fatalf("want %d used IPs, got:\n%s", n, got)
	}
	_, table, _ := strings.Cut(got, "Used IPs")
	rows := strings.Split(strings.TrimSpace(table), "\n")[2:]
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	// 10.192.0.62 must come before 10.192.0.66 and 10.192.0.100 (address,
	// not string, order) and the last row is the highest address.
	for i, want := range map[int]string{59: "10.192.0.61 ", 60: "10.192.0.66 ", 61: "10.192.0.67 ", n - 1: "10.192.1.61 "} {
		if !strings.HasPrefix(strings.TrimSpace(rows[i]), want) {
			t.Errorf("row %d = %q, want it to start with %q", i, rows[i], want)
		}
	}
}
