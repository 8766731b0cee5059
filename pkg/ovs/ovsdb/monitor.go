package ovsdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// MonitorSpec describes what a Monitor watches.
type MonitorSpec struct {
	// DB is the database name, e.g. "Open_vSwitch".
	DB string
	// Tables maps table name to what to watch in it.
	Tables map[string]MonitorRequest
	// Conditional selects "monitor_cond" with "update2" notifications
	// (diffs, optional where clauses) instead of "monitor" with "update".
	Conditional bool
}

// MonitorRequest selects the columns (all if empty) and, for conditional
// monitors, the rows of one table.
type MonitorRequest struct {
	// Columns to watch; empty means all columns.
	Columns []string
	// Where restricts the rows (Conditional monitors only); empty = all.
	Where []Condition
	// Select chooses the kinds of changes reported; nil means all.
	Select *MonitorSelect
}

// MonitorSelect chooses which changes a monitor reports.
type MonitorSelect struct {
	// Initial reports the rows present when the monitor starts.
	Initial bool `json:"initial"`
	// Insert reports new rows.
	Insert bool `json:"insert"`
	// Delete reports removed rows.
	Delete bool `json:"delete"`
	// Modify reports changed rows.
	Modify bool `json:"modify"`
}

// Monitor keeps a Cache of the monitored tables. After a reconnect the
// client re-issues it and the cache is replaced by the fresh contents.
type Monitor struct {
	client *Client
	id     string
	spec   MonitorSpec
	cache  *Cache

	startMu sync.Mutex // serializes start
	mu      sync.Mutex
	active  *rpcConn // session the monitor currently runs on
}

// Monitor starts a monitor and returns once its cache holds the initial
// contents. It keeps running, across reconnects, until Cancel or Close.
func (c *Client) Monitor(ctx context.Context, spec MonitorSpec) (*Monitor, error) {
	if spec.DB == "" || len(spec.Tables) == 0 {
		return nil, fmt.Errorf("ovsdb: monitor needs a database and at least one table")
	}
	c.mu.Lock()
	c.nextMon++
	m := &Monitor{client: c, id: "kubefay-" + strconv.FormatUint(c.nextMon, 10), spec: spec, cache: newCache()}
	c.monitors[m.id] = m
	c.mu.Unlock()
	for {
		conn, err := c.waitConn(ctx)
		if err == nil {
			if err = m.start(ctx, conn); err == nil {
				return m, nil
			}
			if errors.Is(err, errNotSent) {
				c.unpublish(conn)
			}
		}
		if errors.Is(err, ErrDisconnected) {
			continue // the next session's set-up starts it, or we do
		}
		c.mu.Lock()
		delete(c.monitors, m.id)
		c.mu.Unlock()
		return nil, err
	}
}

// Cache returns the monitor's cache.
func (m *Monitor) Cache() *Cache { return m.cache }

// ID returns the monitor's json-value identifier.
func (m *Monitor) ID() string { return m.id }

// Cancel stops the monitor ("monitor_cancel"); the cache keeps its last
// contents and is marked not synced.
func (m *Monitor) Cancel(ctx context.Context) error {
	c := m.client
	c.mu.Lock()
	delete(c.monitors, m.id)
	c.mu.Unlock()
	m.mu.Lock()
	conn := m.active
	m.active = nil
	m.mu.Unlock()
	m.cache.setSynced(false)
	if conn == nil {
		return nil
	}
	_, err := conn.call(ctx, "monitor_cancel", []any{m.id}, nil)
	return err
}

// WaitSynced waits until the cache reflects a live monitor.
func (m *Monitor) WaitSynced(ctx context.Context) error {
	return m.cache.WaitFor(ctx, m.cache.Synced)
}

// requests encodes the <monitor-requests> object.
func (m *Monitor) requests() map[string]any {
	out := make(map[string]any, len(m.spec.Tables))
	for table, r := range m.spec.Tables {
		req := map[string]any{}
		if len(r.Columns) > 0 {
			req["columns"] = r.Columns
		}
		if r.Select != nil {
			req["select"] = r.Select
		}
		if m.spec.Conditional && len(r.Where) > 0 {
			req["where"] = r.Where
		}
		out[table] = req
	}
	return out
}

// start issues the monitor on conn unless it already runs there. The
// reply is loaded into the cache on the read goroutine, before any update.
func (m *Monitor) start(ctx context.Context, conn *rpcConn) error {
	m.startMu.Lock()
	defer m.startMu.Unlock()
	m.mu.Lock()
	running := m.active == conn
	m.mu.Unlock()
	if running {
		return nil
	}
	schema, err := m.client.schema(ctx, conn, m.spec.DB)
	if err != nil {
		return err
	}
	method, decode := "monitor", DecodeTableUpdates
	if m.spec.Conditional {
		method, decode = "monitor_cond", DecodeTableUpdates2
	}
	_, err = conn.call(ctx, method, []any{m.spec.DB, m.id, m.requests()}, func(result json.RawMessage) error {
		initial, err := decode(result)
		if err != nil {
			return err
		}
		if err := m.cache.load(schema, initial); err != nil {
			return err
		}
		m.mu.Lock()
		m.active = conn
		m.mu.Unlock()
		return nil
	})
	return err
}

// deactivate marks the monitor stopped after conn died.
func (m *Monitor) deactivate(conn *rpcConn) {
	m.mu.Lock()
	if m.active == conn {
		m.active = nil
	}
	m.mu.Unlock()
	m.cache.setSynced(false)
}

// apply applies a notification received on conn.
func (m *Monitor) apply(conn *rpcConn, n *Notification) error {
	m.mu.Lock()
	active := m.active == conn
	m.mu.Unlock()
	if !active {
		return nil
	}
	return m.cache.apply(n.Updates)
}
