package nodenet

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"

	"github.com/kubefay/kubefay/pkg/ipam"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("ruleset differs from %s (run with -update after checking):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func rulesetOf(t *testing.T, d Desired) ruleset {
	t.Helper()
	p, err := newPlan(d)
	if err != nil {
		t.Fatal(err)
	}
	return p.rules
}

func TestRulesetGolden(t *testing.T) {
	defNet := ipam.Subnet{Name: "defaultnet", CIDR: cidr("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1"), NATOutgoing: true}
	newNet := ipam.Subnet{Name: "newnet", CIDR: cidr("10.182.0.0/16"), Gateway: netip.MustParseAddr("10.182.0.1")}
	inner := ipam.Subnet{Name: "inner", CIDR: cidr("10.192.64.0/24"), Gateway: netip.MustParseAddr("10.192.64.1"), NATOutgoing: true}
	for _, tc := range []struct {
		golden string
		d      Desired
	}{
		{"ruleset-no-subnets.nft", Desired{GatewayIface: "gw0"}},
		{"ruleset-one-nat-subnet.nft", Desired{GatewayIface: "gw0", NodeAddress: netip.MustParseAddr("10.192.0.2"), Subnets: []ipam.Subnet{defNet}, ServiceCIDRs: cidrs("10.96.0.0/16")}},
		{"ruleset-mixed.nft", Desired{GatewayIface: "gw0", NodeAddress: netip.MustParseAddr("10.192.0.2"),
			Subnets: []ipam.Subnet{newNet, defNet, inner}, ServiceCIDRs: cidrs("10.96.0.0/16", "fd00:96::/108")}},
		{"ruleset-other-gateway-name.nft", Desired{GatewayIface: "kf-gw", Subnets: []ipam.Subnet{newNet}}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			fake := knftables.NewFake(knftables.IPv4Family, TableName)
			how, err := syncNFTables(context.Background(), fake, rulesetOf(t, tc.d))
			if err != nil || how != "flush" {
				t.Fatalf("sync: %q %v", how, err)
			}
			golden(t, tc.golden, fake.Dump())
		})
	}
}

func TestSyncNFTablesReplacesEverything(t *testing.T) {
	ctx := context.Background()
	before := Desired{GatewayIface: "gw0", Subnets: []ipam.Subnet{
		{Name: "a", CIDR: cidr("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1"), NATOutgoing: true},
		{Name: "b", CIDR: cidr("10.182.0.0/16"), Gateway: netip.MustParseAddr("10.182.0.1"), NATOutgoing: true},
	}}
	after := Desired{GatewayIface: "gw0", Subnets: before.Subnets[:1]}

	// Reference: the table written once from nothing.
	ref := knftables.NewFake(knftables.IPv4Family, TableName)
	if _, err := syncNFTables(ctx, ref, rulesetOf(t, after)); err != nil {
		t.Fatal(err)
	}

	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	if _, err := syncNFTables(ctx, fake, rulesetOf(t, before)); err != nil {
		t.Fatal(err)
	}
	// Debris: a chain and a set that no version defines any more, a rule
	// added by hand, an extra element.
	tx := fake.NewTransaction()
	tx.Add(&knftables.Set{Name: "old-set", Type: "ipv4_addr"})
	tx.Add(&knftables.Chain{Name: "old-chain"})
	tx.Add(&knftables.Rule{Chain: "old-chain", Rule: "ip daddr @old-set drop"})
	tx.Add(&knftables.Rule{Chain: chainForward, Rule: "jump old-chain"})
	tx.Add(&knftables.Element{Set: setClusterCIDRs, Key: []string{"10.1.0.0/16"}})
	if err := fake.Run(ctx, tx); err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		how, err := syncNFTables(ctx, fake, rulesetOf(t, after))
		if err != nil || how != "flush" {
			t.Fatalf("sync %d: %q %v", i, how, err)
		}
		if got, want := fake.Dump(), ref.Dump(); got != want {
			t.Fatalf("sync %d left\n%s\nwant\n%s", i, got, want)
		}
	}
	// With debris the transaction empties every chain first; without it, it
	// is one flush of the table plus the content.
	if tr := fake.LastTransaction.String(); strings.Contains(tr, "delete") {
		t.Errorf("clean table rewritten with deletions:\n%s", tr)
	}
}

func TestRecreateTxMatchesFlushTx(t *testing.T) {
	ctx := context.Background()
	rs := rulesetOf(t, Desired{GatewayIface: "gw0", Subnets: []ipam.Subnet{
		{Name: "a", CIDR: cidr("10.192.0.0/16"), Gateway: netip.MustParseAddr("10.192.0.1"), NATOutgoing: true}},
		ServiceCIDRs: cidrs("10.96.0.0/16")})
	a := knftables.NewFake(knftables.IPv4Family, TableName)
	tx := a.NewTransaction()
	rs.flushTx(tx, nil, nil)
	if err := a.Run(ctx, tx); err != nil {
		t.Fatal(err)
	}
	b := knftables.NewFake(knftables.IPv4Family, TableName)
	tx = b.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Add(&knftables.Chain{Name: chainPostrouting}) // something to throw away
	if err := b.Run(ctx, tx); err != nil {
		t.Fatal(err)
	}
	tx = b.NewTransaction()
	rs.recreateTx(tx)
	if err := b.Run(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if a.Dump() != b.Dump() {
		t.Fatalf("recreate gives\n%s\nflush gives\n%s", b.Dump(), a.Dump())
	}
	if err := deleteTable(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := deleteTable(ctx, b); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if b.Dump() != "" {
		t.Fatalf("table left after delete:\n%s", b.Dump())
	}
}
