package ovsdb

import (
	"context"
	"fmt"
)

// PortSpec is the desired state of a port with one interface of the same
// name. Type and Options are exact ("" type is a system device);
// OFPortRequest and MTURequest 0 mean unset; ExternalIDs keys are set on
// both the Port and the Interface, other keys are kept.
type PortSpec struct {
	// Name of the port and of its interface.
	Name string
	// Type: "", "internal", "vxlan", "geneve", "gre", "patch", ...
	Type string
	// Options, e.g. remote_ip=flow, key=flow for tunnels.
	Options map[string]string
	// OFPortRequest asks ovs-vswitchd for this OpenFlow port number.
	OFPortRequest int
	// MTURequest asks for this MTU.
	MTURequest int
	// ExternalIDs are free-form keys for the owner.
	ExternalIDs map[string]string
}

// EnsurePort creates the port and its interface on bridge, or corrects the
// interface's type, options, ofport_request, mtu_request and both rows'
// external_ids, in one transaction; nothing is sent when it matches. A port
// of that name on another bridge is an error.
func (v *VSwitch) EnsurePort(ctx context.Context, bridge string, spec PortSpec) error {
	if spec.Name == "" {
		return fmt.Errorf("ovsdb: EnsurePort: empty name")
	}
	return v.commit(ctx, "ensure port "+spec.Name, func() (*change, error) {
		return v.planPort(bridge, spec)
	})
}

// EnsurePortCommitted is EnsurePort returning once ovsdb-server committed
// the change, for changes ovs-vswitchd has nothing to do for (external
// IDs); Applied waits for it anyway.
func (v *VSwitch) EnsurePortCommitted(ctx context.Context, bridge string, spec PortSpec) (Applied, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("ovsdb: EnsurePort: empty name")
	}
	return v.commitOnly(ctx, "ensure port "+spec.Name, func() (*change, error) {
		return v.planPort(bridge, spec)
	})
}

// DeletePort removes the port (and its interfaces) from bridge; a missing
// port is not an error, a port on another bridge is.
func (v *VSwitch) DeletePort(ctx context.Context, bridge, name string) error {
	applied, err := v.DeletePortCommitted(ctx, bridge, name)
	if err != nil || v.opts.NoWait {
		return err
	}
	return applied(ctx)
}

// DeletePortCommitted is DeletePort returning once ovsdb-server committed
// the removal: the port is gone from the database (a restart will not
// restore it), and Applied waits for ovs-vswitchd to let go of its device.
func (v *VSwitch) DeletePortCommitted(ctx context.Context, bridge, name string) (Applied, error) {
	return v.commitOnly(ctx, "delete port "+name, func() (*change, error) {
		br, ok := v.mon.cache.RowByName(TableBridge, bridge)
		if !ok {
			return nil, fmt.Errorf("bridge %q: %w", bridge, ErrNotFound)
		}
		port, ok := v.mon.cache.RowByName(TablePort, name)
		if !ok {
			return nil, nil
		}
		owner := v.portOwner(port.UUID())
		if owner == nil {
			return nil, nil // unreferenced: ovsdb-server collects it
		}
		if owner.UUID() != br.UUID() {
			return nil, fmt.Errorf("port %q belongs to bridge %q, not %q", name, owner.String("name"), bridge)
		}
		return &change{ops: []Operation{{Op: OpMutate, Table: TableBridge, Where: byUUID(br.UUID()),
			Mutations: []Mutation{Mutate("ports", "delete", Set{port.UUID()})}}}}, nil
	})
}

// portOwner returns the bridge whose ports include id.
func (v *VSwitch) portOwner(id UUID) Row {
	for _, br := range v.mon.cache.Rows(TableBridge) {
		for _, p := range br.UUIDs("ports") {
			if p == id {
				return br
			}
		}
	}
	return nil
}

func (v *VSwitch) planPort(bridge string, spec PortSpec) (*change, error) {
	cache := v.mon.cache
	br, ok := cache.RowByName(TableBridge, bridge)
	if !ok {
		return nil, fmt.Errorf("bridge %q: %w", bridge, ErrNotFound)
	}
	port, ok := cache.RowByName(TablePort, spec.Name)
	if !ok {
		iface := map[string]any{"name": spec.Name, "type": spec.Type, "options": stringMap(spec.Options),
			"external_ids": stringMap(spec.ExternalIDs)}
		if spec.OFPortRequest > 0 {
			iface["ofport_request"] = spec.OFPortRequest
		}
		if spec.MTURequest > 0 {
			iface["mtu_request"] = spec.MTURequest
		}
		return &change{ops: []Operation{
			guardExists(TableBridge, br.UUID()), guardNoName(TablePort, spec.Name), guardNoName(TableInterface, spec.Name),
			{Op: OpInsert, Table: TableInterface, UUIDName: "kfiface", Row: iface},
			{Op: OpInsert, Table: TablePort, UUIDName: "kfport", Row: map[string]any{"name": spec.Name,
				"interfaces": Set{NamedUUID("kfiface")}, "external_ids": stringMap(spec.ExternalIDs)}},
			{Op: OpMutate, Table: TableBridge, Where: byUUID(br.UUID()), Mutations: []Mutation{Mutate("ports", "insert", Set{NamedUUID("kfport")})}},
		}}, nil
	}
	if owner := v.portOwner(port.UUID()); owner == nil || owner.UUID() != br.UUID() {
		other := "no bridge"
		if owner != nil {
			other = "bridge " + owner.String("name")
		}
		return nil, fmt.Errorf("port %q belongs to %s, not %q", spec.Name, other, bridge)
	}
	iface, ok := cache.RowByName(TableInterface, spec.Name)
	if !ok || !containsUUID(port.UUIDs("interfaces"), iface.UUID()) {
		return nil, fmt.Errorf("port %q has no interface named %q", spec.Name, spec.Name)
	}
	var ops []Operation
	update := map[string]any{}
	if iface.String("type") != spec.Type {
		update["type"] = spec.Type
	}
	if !sameStringMap(iface.StringMap("options"), spec.Options) {
		update["options"] = stringMap(spec.Options)
	}
	if n, _ := iface.Int("ofport_request"); int(n) != spec.OFPortRequest {
		update["ofport_request"] = optionalInt(spec.OFPortRequest)
	}
	if n, _ := iface.Int("mtu_request"); int(n) != spec.MTURequest {
		update["mtu_request"] = optionalInt(spec.MTURequest)
	}
	if len(update) > 0 {
		ops = append(ops, Operation{Op: OpUpdate, Table: TableInterface, Where: byUUID(iface.UUID()), Row: update})
	}
	if m := mergeMutations("external_ids", iface.StringMap("external_ids"), spec.ExternalIDs); m != nil {
		ops = append(ops, Operation{Op: OpMutate, Table: TableInterface, Where: byUUID(iface.UUID()), Mutations: m})
	}
	if m := mergeMutations("external_ids", port.StringMap("external_ids"), spec.ExternalIDs); m != nil {
		ops = append(ops, Operation{Op: OpMutate, Table: TablePort, Where: byUUID(port.UUID()), Mutations: m})
	}
	if len(ops) == 0 {
		return nil, nil
	}
	guards := []Operation{guardExists(TablePort, port.UUID()), guardExists(TableInterface, iface.UUID())}
	return &change{ops: append(guards, ops...)}, nil
}

func containsUUID(list []UUID, id UUID) bool {
	for _, u := range list {
		if u == id {
			return true
		}
	}
	return false
}
