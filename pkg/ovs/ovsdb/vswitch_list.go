package ovsdb

import (
	"context"
	"fmt"
	"sort"
)

// PortInfo describes a port of a bridge.
type PortInfo struct {
	// Name and UUID of the Port row.
	Name string
	UUID UUID
	// ExternalIDs of the Port row.
	ExternalIDs map[string]string
	// Interfaces of the port (one for all but bonds).
	Interfaces []InterfaceInfo
}

// InterfaceInfo describes an Interface row.
type InterfaceInfo struct {
	// Name, UUID and Type ("" for a system device) of the interface.
	Name string
	UUID UUID
	Type string
	// OFPort is the OpenFlow port number: 0 while unassigned, -1 on failure.
	OFPort int
	// OFPortRequest and MTURequest are 0 when unset.
	OFPortRequest, MTURequest int
	// MTU is the current MTU reported by ovs-vswitchd (0 if unknown).
	MTU int
	// Options and ExternalIDs are the interface's maps.
	Options, ExternalIDs map[string]string
	// Error is the error column text set by ovs-vswitchd, if any.
	Error string
}

// ListPorts returns the ports of bridge, sorted by name, from the cache
// (after waiting for it to be in sync with the server).
func (v *VSwitch) ListPorts(ctx context.Context, bridge string) ([]PortInfo, error) {
	if err := v.mon.WaitSynced(ctx); err != nil {
		return nil, err
	}
	cache := v.mon.cache
	br, ok := cache.RowByName(TableBridge, bridge)
	if !ok {
		return nil, fmt.Errorf("ovsdb: bridge %q: %w", bridge, ErrNotFound)
	}
	var out []PortInfo
	for _, pid := range br.UUIDs("ports") {
		port, ok := cache.Row(TablePort, pid)
		if !ok {
			continue
		}
		pi := PortInfo{Name: port.String("name"), UUID: pid, ExternalIDs: port.StringMap("external_ids")}
		for _, iid := range port.UUIDs("interfaces") {
			if iface, ok := cache.Row(TableInterface, iid); ok {
				pi.Interfaces = append(pi.Interfaces, interfaceInfo(iface))
			}
		}
		sort.Slice(pi.Interfaces, func(i, j int) bool { return pi.Interfaces[i].Name < pi.Interfaces[j].Name })
		out = append(out, pi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Interface returns the named interface from the cache.
func (v *VSwitch) Interface(name string) (InterfaceInfo, bool) {
	row, ok := v.mon.cache.RowByName(TableInterface, name)
	if !ok {
		return InterfaceInfo{}, false
	}
	return interfaceInfo(row), true
}

func interfaceInfo(r Row) InterfaceInfo {
	num := func(col string) int { n, _ := r.Int(col); return int(n) }
	return InterfaceInfo{Name: r.String("name"), UUID: r.UUID(), Type: r.String("type"), OFPort: num("ofport"),
		OFPortRequest: num("ofport_request"), MTURequest: num("mtu_request"), MTU: num("mtu"),
		Options: r.StringMap("options"), ExternalIDs: r.StringMap("external_ids"), Error: r.String("error")}
}

// WaitOFPort returns the OpenFlow port number of interface name once
// ovs-vswitchd assigned it. It waits on the monitor cache (no polling),
// also for an interface that does not exist yet. If ovs-vswitchd reports an
// error for the interface, it returns an *InterfaceError with its text.
func (v *VSwitch) WaitOFPort(ctx context.Context, name string) (int, error) {
	cache := v.mon.cache
	var ofport int
	var ierr error
	err := cache.WaitFor(ctx, func() bool {
		if !cache.Synced() {
			return false
		}
		row, ok := cache.RowByName(TableInterface, name)
		if !ok {
			return false
		}
		if msg := row.String("error"); msg != "" {
			ierr = &InterfaceError{Name: name, Message: msg}
			return true
		}
		if n, ok := row.Int("ofport"); ok && n > 0 {
			ofport = int(n)
			return true
		}
		return false
	})
	if err != nil {
		return 0, fmt.Errorf("ovsdb: waiting for the ofport of %s: %w", name, err)
	}
	return ofport, ierr
}
