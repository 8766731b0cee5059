package ovsdb

import (
	"context"
	"fmt"
)

// BridgeSpec is the desired state of a bridge. Empty DatapathType and
// FailMode and nil Protocols and FlowTables are left as they are;
// OtherConfig and ExternalIDs keys are set, other keys already present are
// kept.
type BridgeSpec struct {
	// Name of the bridge (also of its LOCAL internal port).
	Name string
	// DatapathType: "netdev" (userspace) or "system".
	DatapathType string
	// FailMode: "secure" or "standalone".
	FailMode string
	// Protocols, e.g. OpenFlow10, OpenFlow13, OpenFlow15 (exact set).
	Protocols []string
	// OtherConfig, e.g. datapath-id or hwaddr.
	OtherConfig map[string]string
	// ExternalIDs are free-form keys for the owner.
	ExternalIDs map[string]string
	// FlowTables names OpenFlow tables (number → name, exact set), which
	// ovs-ofctl --names prints and accepts instead of their numbers.
	FlowTables map[uint8]string
}

// EnsureBridge creates the bridge (with its LOCAL internal port, like
// ovs-vsctl add-br) or corrects its settings, in one transaction; nothing
// is sent when it already matches.
func (v *VSwitch) EnsureBridge(ctx context.Context, spec BridgeSpec) error {
	if spec.Name == "" {
		return fmt.Errorf("ovsdb: EnsureBridge: empty name")
	}
	return v.commit(ctx, "ensure bridge "+spec.Name, func() (*change, error) {
		return v.planBridge(spec)
	})
}

func (v *VSwitch) planBridge(spec BridgeSpec) (*change, error) {
	cache := v.mon.cache
	br, ok := cache.RowByName(TableBridge, spec.Name)
	if !ok {
		root, err := v.rootRow()
		if err != nil {
			return nil, err
		}
		row := map[string]any{"name": spec.Name, "ports": Set{NamedUUID("kfport")},
			"other_config": stringMap(spec.OtherConfig), "external_ids": stringMap(spec.ExternalIDs)}
		if spec.DatapathType != "" {
			row["datapath_type"] = spec.DatapathType
		}
		if spec.FailMode != "" {
			row["fail_mode"] = spec.FailMode
		}
		if spec.Protocols != nil {
			row["protocols"] = spec.Protocols
		}
		var tables []Operation
		if spec.FlowTables != nil {
			row["flow_tables"], tables, _ = v.planFlowTables(nil, spec.FlowTables)
		}
		return &change{ops: append(tables,
			guardNoName(TableBridge, spec.Name), guardNoName(TablePort, spec.Name), guardNoName(TableInterface, spec.Name),
			Operation{Op: OpInsert, Table: TableInterface, UUIDName: "kfiface", Row: map[string]any{"name": spec.Name, "type": "internal"}},
			Operation{Op: OpInsert, Table: TablePort, UUIDName: "kfport", Row: map[string]any{"name": spec.Name, "interfaces": Set{NamedUUID("kfiface")}}},
			Operation{Op: OpInsert, Table: TableBridge, UUIDName: "kfbr", Row: row},
			Operation{Op: OpMutate, Table: TableRoot, Where: byUUID(root.UUID()), Mutations: []Mutation{Mutate("bridges", "insert", Set{NamedUUID("kfbr")})}},
		)}, nil
	}
	update := map[string]any{}
	if spec.DatapathType != "" && br.String("datapath_type") != spec.DatapathType {
		update["datapath_type"] = spec.DatapathType
	}
	if spec.FailMode != "" && br.String("fail_mode") != spec.FailMode {
		update["fail_mode"] = spec.FailMode
	}
	if spec.Protocols != nil && !sameStrings(br.Strings("protocols"), spec.Protocols) {
		update["protocols"] = spec.Protocols
	}
	var ops []Operation
	if spec.FlowTables != nil {
		have, _ := br["flow_tables"].(Map)
		if value, inserts, changed := v.planFlowTables(have, spec.FlowTables); changed {
			update["flow_tables"] = value
			ops = inserts
		}
	}
	muts := append(mergeMutations("other_config", br.StringMap("other_config"), spec.OtherConfig),
		mergeMutations("external_ids", br.StringMap("external_ids"), spec.ExternalIDs)...)
	if len(update) > 0 {
		ops = append(ops, Operation{Op: OpUpdate, Table: TableBridge, Where: byUUID(br.UUID()), Row: update})
	}
	if len(muts) > 0 {
		ops = append(ops, Operation{Op: OpMutate, Table: TableBridge, Where: byUUID(br.UUID()), Mutations: muts})
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return &change{ops: append([]Operation{guardExists(TableBridge, br.UUID())}, ops...)}, nil
}
