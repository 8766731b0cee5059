package ovsdb

import (
	"context"
	"sync"
)

// Cache is an in-memory copy of the monitored tables, kept current by a
// Monitor. Rows returned by it are immutable snapshots shared with the
// cache: read them, never modify them. All methods are safe for
// concurrent use.
type Cache struct {
	mu      sync.RWMutex
	schema  *Schema
	tables  map[string]map[UUID]Row
	names   map[string]map[string]UUID // table -> "name" column -> uuid
	gen     uint64
	loads   int
	synced  bool
	changed chan struct{}
}

func newCache() *Cache {
	return &Cache{tables: map[string]map[UUID]Row{}, names: map[string]map[string]UUID{}, changed: make(chan struct{})}
}

// Rows returns all rows of table.
func (c *Cache) Rows(table string) []Row {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Row, 0, len(c.tables[table]))
	for _, r := range c.tables[table] {
		out = append(out, r)
	}
	return out
}

// Row returns the row of table with uuid id.
func (c *Cache) Row(table string, id UUID) (Row, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.tables[table][id]
	return r, ok
}

// RowByName returns the row of table whose "name" column is name.
func (c *Cache) RowByName(table, name string) (Row, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.names[table][name]
	if !ok {
		return nil, false
	}
	r, ok := c.tables[table][id]
	return r, ok
}

// Generation counts the changes applied so far; it grows on every update.
func (c *Cache) Generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// Synced reports whether the cache reflects a live monitor (false while
// the client is reconnecting; the contents are then the last known ones).
func (c *Cache) Synced() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.synced
}

// WaitFor blocks until ready returns true or ctx ends. ready is evaluated
// now and again after every change of the cache (no polling); it may call
// the cache's read methods.
func (c *Cache) WaitFor(ctx context.Context, ready func() bool) error {
	for {
		c.mu.RLock()
		ch := c.changed
		c.mu.RUnlock()
		if ready() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes WaitFor callers; c.mu must be held for writing.
func (c *Cache) notifyLocked() {
	c.gen++
	close(c.changed)
	c.changed = make(chan struct{})
}

// setSynced marks the cache live or stale.
func (c *Cache) setSynced(v bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.synced != v {
		c.synced = v
		c.notifyLocked()
	}
}

// load replaces the whole contents with a monitor reply's rows.
func (c *Cache) load(schema *Schema, initial TableUpdates) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, oldNames := c.tables, c.names
	c.schema, c.tables, c.names = schema, map[string]map[UUID]Row{}, map[string]map[string]UUID{}
	if err := c.applyLocked(initial); err != nil {
		c.tables, c.names = old, oldNames
		return err
	}
	c.loads++
	c.synced = true
	c.notifyLocked()
	return nil
}

// apply applies one notification's changes atomically.
func (c *Cache) apply(u TableUpdates) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.applyLocked(u)
	c.notifyLocked()
	return err
}

func (c *Cache) applyLocked(u TableUpdates) error {
	var firstErr error
	for table, rows := range u {
		for id, ru := range rows {
			if err := c.applyRowLocked(table, id, ru); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

func (c *Cache) applyRowLocked(table string, id UUID, ru RowUpdate) error {
	t := c.tables[table]
	if t == nil {
		t = map[UUID]Row{}
		c.tables[table] = t
	}
	old, exists := t[id]
	var next Row
	switch {
	case ru.Kind == RowDelete:
		c.unindexLocked(table, id, old)
		delete(t, id)
		return nil
	case ru.Diff && exists:
		var err error
		if next, err = applyDiff(c.schema, table, old, ru.Row); err != nil {
			return err
		}
	default:
		next = make(Row, len(old)+len(ru.Row)+1)
		if ru.Kind == RowModify {
			for k, v := range old {
				next[k] = v
			}
		}
		for col, v := range ru.Row {
			next[col] = c.schema.normalize(table, col, v)
		}
	}
	next["_uuid"] = id
	c.unindexLocked(table, id, old)
	t[id] = next
	if name, ok := next["name"].(string); ok {
		if c.names[table] == nil {
			c.names[table] = map[string]UUID{}
		}
		c.names[table][name] = id
	}
	return nil
}

func (c *Cache) unindexLocked(table string, id UUID, old Row) {
	if name, ok := old["name"].(string); ok && c.names[table][name] == id {
		delete(c.names[table], name)
	}
}
