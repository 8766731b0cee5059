package nodenet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"sync"

	"github.com/vishvananda/netlink"
	"k8s.io/klog/v2"
	"sigs.k8s.io/knftables"
)

// changeLog records one change made to the kernel, printf style.
type changeLog func(format string, args ...any)

// Reconciler converges the node's host network to a Desired state. Its
// methods act on the network namespace of the calling OS thread and are
// safe for concurrent use (calls are serialised). Keep one Reconciler for
// the agent's lifetime: it remembers the nftables table it wrote last, so an
// Apply that changes nothing does not rewrite it.
type Reconciler struct {
	nft knftables.Interface
	// listTable returns the table as nft prints it (nil: always rewrite).
	listTable func(ctx context.Context) (string, error)

	mu sync.Mutex
	// written is what the last successful nftables write left: the ruleset
	// asked for and the table's listing right after.
	written struct {
		rules   string
		listing string
	}
}

// NewReconciler checks that nft works and returns a Reconciler.
func NewReconciler() (*Reconciler, error) {
	nft, err := knftables.New(knftables.IPv4Family, TableName)
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return &Reconciler{nft: nft, listTable: listTableWithNFT}, nil
}

// listTableWithNFT prints kubefay's table with the nft tool, in the calling
// thread's network namespace (the child process inherits it).
func listTableWithNFT(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "nft", "list", "table", "ip", TableName).Output()
	if err != nil {
		return "", fmt.Errorf("nft list table ip %s: %w", TableName, err)
	}
	return string(out), nil
}

// Apply makes the node equal to d: gw0 up with d.MTU, its IPv4 addresses
// exactly the node address (first) and the gateways, one kubefay route per
// SubNet, the sysctls, and the nftables table (rewritten in one transaction
// when it differs from what this Reconciler wrote last). Only the difference
// is changed (logged at verbosity 2); calling it again changes nothing. It
// fails at once when d is invalid or gw0 does not exist; otherwise it goes
// through every step and returns all errors joined. Interrupted at any
// point, the next Apply finishes the job.
func (r *Reconciler) Apply(ctx context.Context, d Desired) error {
	_, err := r.reconcile(ctx, d)
	return err
}

// reconcile is Apply returning the changes it made, for tests.
func (r *Reconciler) reconcile(ctx context.Context, d Desired) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var changes []string
	log := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		changes = append(changes, msg)
		klog.V(2).InfoS("Host network changed", "change", msg)
	}
	p, err := newPlan(d)
	if err != nil {
		return nil, fmt.Errorf("invalid desired node network: %w", err)
	}
	link, err := syncLink(p, log)
	if err != nil {
		return changes, err
	}
	var errs []error
	for _, step := range []func() error{
		func() error { return syncSysctls(p.iface, log) },
		func() error { return syncAddresses(link, p, log) },
		func() error { return syncRoutes(link, p, log) },
		func() error { return r.syncTable(ctx, p.rules, log) },
	} {
		if err := ctx.Err(); err != nil {
			return changes, errors.Join(append(errs, err)...)
		}
		if err := step(); err != nil {
			errs = append(errs, err)
		}
	}
	return changes, errors.Join(errs...)
}

// syncTable rewrites the nftables table unless it still holds exactly what
// this Reconciler wrote for the same ruleset (compared on nft's listing, so
// any change made by someone else is repaired).
func (r *Reconciler) syncTable(ctx context.Context, rs ruleset, log changeLog) error {
	key := rs.String()
	if r.listTable != nil && r.written.rules == key {
		if cur, err := r.listTable(ctx); err == nil && cur == r.written.listing {
			return nil
		}
	}
	r.written.rules, r.written.listing = "", ""
	how, err := syncNFTables(ctx, r.nft, rs)
	if err != nil {
		return err
	}
	log("nftables table ip %s rewritten (%s)", TableName, how)
	if r.listTable != nil {
		if listing, err := r.listTable(ctx); err == nil {
			r.written.rules, r.written.listing = key, listing
		}
	}
	return nil
}

// syncLink finds the gateway device and sets it up with the desired MTU.
func syncLink(p plan, log changeLog) (netlink.Link, error) {
	link, err := netlink.LinkByName(p.iface)
	if err != nil {
		return nil, fmt.Errorf("gateway interface %s: %w", p.iface, err)
	}
	if p.mtu > 0 && link.Attrs().MTU != p.mtu {
		if err := netlink.LinkSetMTU(link, p.mtu); err != nil {
			return nil, fmt.Errorf("setting MTU %d on %s: %w", p.mtu, p.iface, err)
		}
		log("link %s mtu %d (was %d)", p.iface, p.mtu, link.Attrs().MTU)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(link); err != nil {
			return nil, fmt.Errorf("setting %s up: %w", p.iface, err)
		}
		log("link %s up", p.iface)
	}
	return link, nil
}

// Remove deletes what kubefay created, for uninstall: the nftables table,
// every route of the main table with RouteProtocol, and the IPv4 addresses
// of gatewayIface (which may already be gone). Sysctls stay. Calling it again
// is harmless.
func (r *Reconciler) Remove(ctx context.Context, gatewayIface string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written.rules, r.written.listing = "", ""
	var errs []error
	if err := deleteTable(ctx, r.nft); err != nil {
		errs = append(errs, err)
	}
	routes, err := listMainV4Routes()
	if err != nil {
		errs = append(errs, err)
	}
	for _, rt := range routes {
		if rt.Protocol == RouteProtocol {
			if err := delRoute(rt); err != nil {
				errs = append(errs, err)
			}
		}
	}
	link, err := netlink.LinkByName(gatewayIface)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
	case err != nil:
		errs = append(errs, fmt.Errorf("gateway interface %s: %w", gatewayIface, err))
	default:
		if err := syncAddresses(link, plan{iface: gatewayIface}, func(string, ...any) {}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
