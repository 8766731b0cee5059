package ovsdb

import (
	"context"
	"errors"
	"fmt"
)

// Open_vSwitch database and table names.
const (
	// VSwitchDB is the database ovs-vswitchd reads its configuration from.
	VSwitchDB = "Open_vSwitch"
	// TableRoot is the table holding the single root row (bridges, next_cfg, cur_cfg).
	TableRoot = "Open_vSwitch"
	// TableBridge holds one row per bridge.
	TableBridge = "Bridge"
	// TablePort holds one row per bridge port.
	TablePort = "Port"
	// TableInterface holds one row per network interface of a port.
	TableInterface = "Interface"
	// TableFlowTable holds settings of OpenFlow tables (their names), which
	// bridges reference from flow_tables.
	TableFlowTable = "Flow_Table"
)

// VSwitchOptions tune a VSwitch.
type VSwitchOptions struct {
	// NoWait makes changes return once ovsdb-server committed them, without
	// waiting for ovs-vswitchd to apply them (cur_cfg), like ovs-vsctl
	// --no-wait. By default helpers wait, bounded by their context.
	NoWait bool
	// MaxAttempts bounds the re-plans of one helper after its optimistic
	// checks failed because the cache was behind the server. Default 8.
	MaxAttempts int
}

// VSwitch is a typed view of the Open_vSwitch database: a monitor keeps a
// cache of the Open_vSwitch, Bridge, Port, Interface and Flow_Table tables, and the
// helpers compute each change from it and commit it as one transaction.
type VSwitch struct {
	client *Client
	mon    *Monitor
	opts   VSwitchOptions
}

// NewVSwitch starts the monitor VSwitch needs on c; it returns once the
// cache holds the current contents.
func NewVSwitch(ctx context.Context, c *Client, opts VSwitchOptions) (*VSwitch, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	mon, err := c.Monitor(ctx, MonitorSpec{DB: VSwitchDB, Conditional: true, Tables: map[string]MonitorRequest{
		TableRoot:   {Columns: []string{"bridges", "next_cfg", "cur_cfg", "external_ids", "other_config"}},
		TableBridge: {Columns: []string{"name", "datapath_type", "fail_mode", "protocols", "other_config", "external_ids", "ports", "flow_tables"}},
		TablePort:   {Columns: []string{"name", "interfaces", "external_ids"}},
		TableInterface: {Columns: []string{"name", "type", "options", "ofport", "ofport_request", "mtu_request",
			"mtu", "external_ids", "error"}},
		TableFlowTable: {Columns: []string{"name"}},
	}})
	if err != nil {
		return nil, err
	}
	return &VSwitch{client: c, mon: mon, opts: opts}, nil
}

// Cache returns the cache of the Open_vSwitch, Bridge, Port, Interface and Flow_Table tables.
func (v *VSwitch) Cache() *Cache { return v.mon.cache }

// Client returns the underlying client.
func (v *VSwitch) Client() *Client { return v.client }

// Close cancels the monitor (the client stays open).
func (v *VSwitch) Close(ctx context.Context) error { return v.mon.Cancel(ctx) }

// rootRow returns the single Open_vSwitch row.
func (v *VSwitch) rootRow() (Row, error) {
	rows := v.mon.cache.Rows(TableRoot)
	if len(rows) != 1 {
		return nil, fmt.Errorf("ovsdb: %d rows in table Open_vSwitch, want 1 (run ovs-vsctl init)", len(rows))
	}
	return rows[0], nil
}

// change is what a helper wants to commit; an empty ops list means the
// database already is in the desired state.
type change struct {
	ops []Operation
}

// errConflict means the cache was behind the server: re-plan.
var errConflict = errors.New("ovsdb: cache behind server")

// commit plans from the cache, adds the next_cfg bump and commits; on a
// failed guard it waits for the cache to move and plans again. It returns
// once the change is in the cache and, unless NoWait, once ovs-vswitchd
// reported it in cur_cfg.
func (v *VSwitch) commit(ctx context.Context, what string, plan func() (*change, error)) error {
	cfg, err := v.transact(ctx, what, plan)
	if err != nil || cfg == 0 {
		return err
	}
	return v.waitCfg(ctx, what, cfg, !v.opts.NoWait)
}

// Applied waits until ovs-vswitchd has applied a committed change.
type Applied func(ctx context.Context) error

// commitOnly is commit without waiting for ovs-vswitchd: it returns once
// the change is in the cache, and an Applied for the rest.
func (v *VSwitch) commitOnly(ctx context.Context, what string, plan func() (*change, error)) (Applied, error) {
	cfg, err := v.transact(ctx, what, plan)
	if err == nil && cfg != 0 {
		err = v.waitCfg(ctx, what, cfg, false)
	}
	if err != nil || cfg == 0 {
		return func(context.Context) error { return nil }, err
	}
	return func(ctx context.Context) error { return v.waitCfg(ctx, what, cfg, true) }, nil
}

// transact plans and commits a change with its next_cfg bump and returns
// the next_cfg it set; 0 when there was nothing to change.
func (v *VSwitch) transact(ctx context.Context, what string, plan func() (*change, error)) (int64, error) {
	cache := v.mon.cache
	for attempt := 1; ; attempt++ {
		if err := v.mon.WaitSynced(ctx); err != nil {
			return 0, fmt.Errorf("%s: waiting for the database: %w", what, err)
		}
		gen := cache.Generation()
		ch, err := plan()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		if ch == nil || len(ch.ops) == 0 {
			return 0, nil
		}
		root, err := v.rootRow()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		ops := append(ch.ops, guardExists(TableRoot, root.UUID()),
			Operation{Op: OpMutate, Table: TableRoot, Where: byUUID(root.UUID()), Mutations: []Mutation{Mutate("next_cfg", "+=", 1)}},
			Operation{Op: OpSelect, Table: TableRoot, Where: byUUID(root.UUID()), Columns: []string{"next_cfg"}})
		res, err := v.client.Transact(ctx, VSwitchDB, ops...)
		if err = classify(err, ops); err != nil {
			if !errors.Is(err, errConflict) && !errors.Is(err, ErrDisconnected) {
				return 0, fmt.Errorf("%s: %w", what, err)
			}
			if attempt >= v.opts.MaxAttempts {
				return 0, fmt.Errorf("%s: gave up after %d attempts: %w", what, attempt, err)
			}
			if err := cache.WaitFor(ctx, func() bool { return cache.Generation() > gen }); err != nil {
				return 0, fmt.Errorf("%s: %w", what, err)
			}
			continue
		}
		last := res[len(ops)-1]
		if len(last.Rows) != 1 {
			return 0, fmt.Errorf("%s: next_cfg not returned", what)
		}
		cfg, _ := last.Rows[0].Int("next_cfg")
		return cfg, nil
	}
}

// classify maps a failed guard to errConflict.
func classify(err error, ops []Operation) error {
	var te *TransactionError
	if errors.As(err, &te) && te.Index < len(ops) && ops[te.Index].Op == OpWait {
		return fmt.Errorf("%w: %v", errConflict, err)
	}
	return err
}

// waitCfg waits until the cache has seen next_cfg >= cfg (our own change is
// visible) and, when applied, cur_cfg >= cfg (ovs-vswitchd applied it).
func (v *VSwitch) waitCfg(ctx context.Context, what string, cfg int64, applied bool) error {
	col := "next_cfg"
	if applied {
		col = "cur_cfg"
	}
	cache := v.mon.cache
	err := cache.WaitFor(ctx, func() bool {
		root, err := v.rootRow()
		if err != nil {
			return false
		}
		seen, _ := root.Int("next_cfg")
		cur, _ := root.Int(col)
		return seen >= cfg && cur >= cfg
	})
	if err != nil {
		return fmt.Errorf("%s: committed, but waiting for %s >= %d: %w", what, col, cfg, err)
	}
	return nil
}

// byUUID is the where clause selecting one row.
func byUUID(id UUID) []Condition { return []Condition{Where("_uuid", "==", id)} }

// guardExists aborts the transaction unless the row exists.
func guardExists(table string, id UUID) Operation {
	return Operation{Op: OpWait, Table: table, Where: byUUID(id), Columns: []string{"_uuid"}, Until: "!=", Rows: []map[string]any{}}
}

// guardNoName aborts the transaction if a row of table is named name.
func guardNoName(table, name string) Operation {
	return Operation{Op: OpWait, Table: table, Where: []Condition{Where("name", "==", name)}, Columns: []string{"name"}, Until: "==", Rows: []map[string]any{}}
}
