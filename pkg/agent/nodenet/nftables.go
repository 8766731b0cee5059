package nodenet

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/klog/v2"
	"sigs.k8s.io/knftables"

	"github.com/kubefay/kubefay/pkg/agent/podif"
)

// Names in the nftables table `ip kubefay`.
const (
	// TableName is kubefay's nftables table (family ip).
	TableName        = "kubefay"
	setNATSources    = "subnets-nat"
	setClusterCIDRs  = "cluster-cidrs"
	chainPostrouting = "postrouting"
	chainForward     = "forward"
	chainInput       = "input"
)

// tunnelPorts are the UDP ports of VXLAN and Geneve (OVS's defaults; the
// agent configures no other). Pods never send to them: a hand-made tunnel
// datagram from a pod would reach another node's br-int from this node's
// (masqueraded) address, which tun0's source check accepts.
const tunnelPorts = "{ 4789, 6081 }"

// postroutingPriority runs after iptables-nft's nat POSTROUTING (srcnat), so
// kube-proxy's masquerade decides first (see the package documentation).
const postroutingPriority knftables.BaseChainPriority = knftables.SNATPriority + " + 10"

// ruleset is everything the table holds.
type ruleset struct {
	iface        string
	natSources   []netip.Prefix // sources to masquerade (SubNets with NATOutgoing)
	clusterCIDRs []netip.Prefix // destinations never masqueraded to
}

// String identifies the ruleset's content (for the Reconciler's memory of
// what it wrote).
func (rs ruleset) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iface=%s nat=", rs.iface)
	for _, n := range rs.natSources {
		b.WriteString(n.String() + ",")
	}
	b.WriteString(" cluster=")
	for _, n := range rs.clusterCIDRs {
		b.WriteString(n.String() + ",")
	}
	return b.String()
}

func (rs ruleset) chains() []*knftables.Chain {
	return []*knftables.Chain{
		{
			Name:     chainPostrouting,
			Type:     knftables.PtrTo(knftables.NATType),
			Hook:     knftables.PtrTo(knftables.PostroutingHook),
			Priority: knftables.PtrTo(postroutingPriority),
		},
		{
			Name:     chainForward,
			Type:     knftables.PtrTo(knftables.FilterType),
			Hook:     knftables.PtrTo(knftables.ForwardHook),
			Priority: knftables.PtrTo(knftables.FilterPriority),
			Policy:   knftables.PtrTo(knftables.AcceptPolicy),
		},
		{
			Name:     chainInput,
			Type:     knftables.PtrTo(knftables.FilterType),
			Hook:     knftables.PtrTo(knftables.InputHook),
			Priority: knftables.PtrTo(knftables.FilterPriority),
			Policy:   knftables.PtrTo(knftables.AcceptPolicy),
		},
	}
}

func (rs ruleset) sets() []*knftables.Set {
	interval := []knftables.SetFlag{knftables.IntervalFlag}
	return []*knftables.Set{
		{Name: setNATSources, Type: "ipv4_addr", Flags: interval,
			Comment: knftables.PtrTo("SubNets with NATOutgoing")},
		{Name: setClusterCIDRs, Type: "ipv4_addr", Flags: interval,
			Comment: knftables.PtrTo("all SubNets and service CIDRs")},
	}
}

func (rs ruleset) rules() []*knftables.Rule {
	gw := fmt.Sprintf("%q", rs.iface)
	noTunnel := knftables.Concat("iifname", gw, "udp dport", tunnelPorts, "drop")
	// The host end of a pod's veth is a port of br-int: pod traffic enters the
	// node only through gw0, after the spoof guard. (On the netdev datapath
	// the kernel sees the port's frames too: OVS reads them with AF_PACKET.)
	noBypass := knftables.Concat("iifname", fmt.Sprintf("%q", podif.HostIfPrefix+"*"), "iifname !=", gw, "drop")
	bypass := knftables.PtrTo("pods reach the node only through br-int")
	return []*knftables.Rule{
		// before any accept: to other nodes (forward) and to this one (input)
		{Chain: chainForward, Rule: noBypass, Comment: bypass},
		{Chain: chainInput, Rule: noBypass, Comment: bypass},
		{Chain: chainForward, Rule: noTunnel, Comment: knftables.PtrTo("pods never send tunnel packets")},
		{Chain: chainInput, Rule: noTunnel, Comment: knftables.PtrTo("pods never send tunnel packets")},
		{
			Chain: chainPostrouting,
			Rule: knftables.Concat("ip saddr", "@"+setNATSources, "ip daddr !=", "@"+setClusterCIDRs,
				"oifname !=", gw, "masquerade fully-random"),
			Comment: knftables.PtrTo("pod traffic leaving the cluster"),
		},
		{Chain: chainForward, Rule: knftables.Concat("iifname", gw, "accept"),
			Comment: knftables.PtrTo("from pods")},
		{Chain: chainForward, Rule: knftables.Concat("oifname", gw, "accept"),
			Comment: knftables.PtrTo("to pods")},
	}
}

// addContent adds every chain, set, rule and element of rs to tx; it expects
// an empty (just flushed or created) table.
func (rs ruleset) addContent(tx *knftables.Transaction) {
	for _, c := range rs.chains() {
		tx.Add(c)
	}
	for _, s := range rs.sets() {
		tx.Add(s)
		tx.Flush(s) // `flush table` keeps set elements
	}
	for _, r := range rs.rules() {
		tx.Add(r)
	}
	for _, e := range []struct {
		set   string
		cidrs []netip.Prefix
	}{{setNATSources, rs.natSources}, {setClusterCIDRs, rs.clusterCIDRs}} {
		for _, c := range e.cidrs {
			tx.Add(&knftables.Element{Set: e.set, Key: []string{c.String()}})
		}
	}
}

// ownedObjects names the chains and sets rs defines.
func (rs ruleset) ownedObjects() (chains, sets []string) {
	for _, c := range rs.chains() {
		chains = append(chains, c.Name)
	}
	for _, s := range rs.sets() {
		sets = append(sets, s.Name)
	}
	return chains, sets
}

// flushTx rewrites an existing table in place: one transaction that empties
// every chain, deletes chains and sets that are no longer defined (they are
// unreferenced once every chain is empty), flushes the table and adds the
// content again. existing* are the table's current objects (empty when the
// table does not exist yet).
func (rs ruleset) flushTx(tx *knftables.Transaction, existingChains, existingSets []string) {
	tx.Add(&knftables.Table{})
	chains, sets := rs.ownedObjects()
	var staleChains, staleSets []string
	for _, c := range existingChains {
		if !slices.Contains(chains, c) {
			staleChains = append(staleChains, c)
		}
	}
	for _, s := range existingSets {
		if !slices.Contains(sets, s) {
			staleSets = append(staleSets, s)
		}
	}
	if len(staleChains)+len(staleSets) > 0 {
		for _, c := range existingChains {
			tx.Flush(&knftables.Chain{Name: c})
		}
		for _, c := range staleChains {
			tx.Delete(&knftables.Chain{Name: c})
		}
		for _, s := range staleSets {
			tx.Delete(&knftables.Set{Name: s})
		}
	}
	tx.Flush(&knftables.Table{})
	rs.addContent(tx)
}

// recreateTx deletes the table and creates it again, in one transaction. It
// is the fallback when the table holds an object that cannot be re-added as
// defined (a chain with another hook or priority, a set of another type).
func (rs ruleset) recreateTx(tx *knftables.Transaction) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{})
	rs.addContent(tx)
}

// syncNFTables replaces the content of the table with rs atomically. It
// reports which way it went ("flush" or "recreate").
func syncNFTables(ctx context.Context, nft knftables.Interface, rs ruleset) (string, error) {
	existing, err := nft.ListAll(ctx)
	if err != nil && !knftables.IsNotFound(err) {
		return "", fmt.Errorf("listing nftables table %s: %w", TableName, err)
	}
	flushErr := fmt.Errorf("the table holds objects other than chains and sets")
	if onlyChainsAndSets(existing) {
		tx := nft.NewTransaction()
		rs.flushTx(tx, existing["chain"], existing["set"])
		if flushErr = nft.Run(ctx, tx); flushErr == nil {
			return "flush", nil
		}
	}
	tx := nft.NewTransaction()
	rs.recreateTx(tx)
	if err := nft.Run(ctx, tx); err != nil {
		return "", fmt.Errorf("writing nftables table %s: %w (in-place rewrite failed before: %v)", TableName, err, flushErr)
	}
	klog.V(2).InfoS("nftables table recreated: in-place rewrite impossible", "table", TableName, "reason", flushErr)
	return "recreate", nil
}

// onlyChainsAndSets is true when the table holds no maps, counters or
// flowtables (which the in-place rewrite would not remove). The real nft
// also lists the table itself under "table".
func onlyChainsAndSets(existing map[string][]string) bool {
	for kind, names := range existing {
		if kind != "chain" && kind != "set" && kind != "table" && len(names) > 0 {
			return false
		}
	}
	return true
}

// deleteTable removes the table if it exists.
func deleteTable(ctx context.Context, nft knftables.Interface) error {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("deleting nftables table %s: %w", TableName, err)
	}
	return nil
}
