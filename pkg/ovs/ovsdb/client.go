package ovsdb

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune a Client. The zero value is usable.
type Options struct {
	// OnReconnect runs after a lost connection was re-established and every
	// monitor re-issued (caches hold the server's current contents). It runs
	// on the client's connection goroutine: keep it short or start your own.
	OnReconnect func()
	// OnDisconnect is told why a connection ended (not called on Close).
	OnDisconnect func(err error)
	// EchoInterval: after this long without receiving anything the client
	// sends an echo, and drops the connection if the echo is not answered
	// within another interval. 0 means 5 s; negative disables keepalives.
	EchoInterval time.Duration
	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles
	// after each failed attempt (with jitter). Defaults: 50 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
	// ConnectTimeout bounds one reconnect attempt including re-monitoring.
	// Default 10 s.
	ConnectTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.EchoInterval == 0 {
		o.EchoInterval = 5 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
}

// Client is a reconnecting OVSDB client. Calls made while the connection is
// down wait for the next connection (bounded by their context). All
// methods are safe for concurrent use.
type Client struct {
	endpoint string
	opts     Options

	mu       sync.Mutex
	conn     *rpcConn      // nil while disconnected
	ready    chan struct{} // closed when conn is set
	closed   bool
	closeCh  chan struct{}
	monitors map[string]*Monitor
	nextMon  uint64
	schemas  map[*rpcConn]map[string]*Schema

	transactions atomic.Int64
	reconnects   atomic.Int64
	done         chan struct{}
}

// Dial connects to endpoint ("unix:<path>" or "tcp:<host>:<port>"). The
// first connection must succeed within ctx; later losses are repaired in
// the background until Close.
func Dial(ctx context.Context, endpoint string, opts Options) (*Client, error) {
	if _, _, err := ParseEndpoint(endpoint); err != nil {
		return nil, err
	}
	opts.setDefaults()
	c := &Client{endpoint: endpoint, opts: opts, ready: make(chan struct{}), closeCh: make(chan struct{}),
		monitors: map[string]*Monitor{}, schemas: map[*rpcConn]map[string]*Schema{}, done: make(chan struct{})}
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.publish(conn)
	go c.run(conn)
	return c, nil
}

// Close ends the connection and stops reconnecting. Pending calls fail
// with ErrDisconnected, later ones with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.closeCh)
	c.mu.Unlock()
	<-c.done
	return nil
}

// Reconnects returns how many times the connection was re-established.
func (c *Client) Reconnects() int64 { return c.reconnects.Load() }

// Transactions returns how many transact requests the client sent.
func (c *Client) Transactions() int64 { return c.transactions.Load() }

// Call sends an arbitrary request (e.g. "list_dbs", "get_schema") and
// decodes its result into result (ignored if nil). It waits for a
// connection if there is none.
func (c *Client) Call(ctx context.Context, method string, params []any, result any) error {
	raw, err := c.call(ctx, method, params)
	if err != nil {
		return err
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			return fmt.Errorf("ovsdb: %s result: %w", method, err)
		}
	}
	return nil
}

// Echo sends an echo request and checks that the reply repeats it.
func (c *Client) Echo(ctx context.Context) error {
	var got []string
	if err := c.Call(ctx, "echo", []any{"kubefay"}, &got); err != nil {
		return err
	}
	if len(got) != 1 || got[0] != "kubefay" {
		return fmt.Errorf("ovsdb: echo returned %q", got)
	}
	return nil
}

// call sends a request on the live connection; a request that could not be
// sent because the connection had just died is retried on the next one.
func (c *Client) call(ctx context.Context, method string, params []any) (json.RawMessage, error) {
	for {
		conn, err := c.waitConn(ctx)
		if err != nil {
			return nil, err
		}
		raw, err := conn.call(ctx, method, params, nil)
		if err == errNotSent {
			c.unpublish(conn)
			continue
		}
		return raw, err
	}
}

// waitConn returns the live connection, waiting for one if needed.
func (c *Client) waitConn(ctx context.Context) (*rpcConn, error) {
	for {
		c.mu.Lock()
		closed, conn, ready := c.closed, c.conn, c.ready
		c.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		if conn != nil {
			return conn, nil
		}
		select {
		case <-ready:
		case <-c.closeCh:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// connect dials and sets up a session: every registered monitor is issued.
func (c *Client) connect(ctx context.Context) (*rpcConn, error) {
	nc, err := dialEndpoint(ctx, c.endpoint)
	if err != nil {
		return nil, fmt.Errorf("ovsdb: dial %s: %w", c.endpoint, err)
	}
	conn := newRPCConn(nc, c.handleNotification)
	if c.opts.EchoInterval > 0 {
		go conn.keepalive(c.opts.EchoInterval)
	}
	c.mu.Lock()
	mons := make([]*Monitor, 0, len(c.monitors))
	for _, m := range c.monitors {
		mons = append(mons, m)
	}
	c.mu.Unlock()
	for _, m := range mons {
		if err := m.start(ctx, conn); err != nil {
			conn.close(err)
			return nil, fmt.Errorf("ovsdb: re-monitor %s: %w", m.id, err)
		}
	}
	return conn, nil
}

func (c *Client) publish(conn *rpcConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	close(c.ready)
}

// unpublish forgets a dead connection; calling it again for the same
// connection, or after a newer one was published, changes nothing.
func (c *Client) unpublish(conn *rpcConn) {
	c.mu.Lock()
	if c.conn == conn {
		c.conn = nil
		c.ready = make(chan struct{})
	}
	delete(c.schemas, conn)
	mons := make([]*Monitor, 0, len(c.monitors))
	for _, m := range c.monitors {
		mons = append(mons, m)
	}
	c.mu.Unlock()
	for _, m := range mons {
		m.deactivate(conn)
	}
}

// run watches the live connection and replaces it when it dies.
func (c *Client) run(conn *rpcConn) {
	defer close(c.done)
	for {
		select {
		case <-conn.done:
		case <-c.closeCh:
			conn.close(ErrClosed)
			c.unpublish(conn)
			return
		}
		c.unpublish(conn)
		if c.opts.OnDisconnect != nil {
			c.opts.OnDisconnect(conn.Err())
		}
		if conn = c.reconnect(); conn == nil {
			return
		}
		c.publish(conn)
		c.reconnects.Add(1)
		if c.opts.OnReconnect != nil {
			c.opts.OnReconnect()
		}
	}
}

// reconnect retries with exponential back-off until it succeeds or the
// client is closed (then it returns nil).
func (c *Client) reconnect() *rpcConn {
	backoff := c.opts.MinBackoff
	for {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.ConnectTimeout)
		go func() {
			select {
			case <-c.closeCh:
				cancel()
			case <-ctx.Done():
			}
		}()
		conn, err := c.connect(ctx)
		cancel()
		if err == nil {
			return conn
		}
		// Jitter in [backoff/2, backoff) so that many agents do not retry in step.
		delay := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		select {
		case <-c.closeCh:
			return nil
		case <-time.After(delay):
		}
		backoff = min(backoff*2, c.opts.MaxBackoff)
	}
}

// schema returns db's schema for this session, fetching it once.
func (c *Client) schema(ctx context.Context, conn *rpcConn, db string) (*Schema, error) {
	c.mu.Lock()
	s := c.schemas[conn][db]
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	raw, err := conn.call(ctx, "get_schema", []any{db}, nil)
	if err != nil {
		return nil, err
	}
	if s, err = ParseSchema(raw); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.schemas[conn] == nil {
		c.schemas[conn] = map[string]*Schema{}
	}
	c.schemas[conn][db] = s
	c.mu.Unlock()
	return s, nil
}

// handleNotification routes "update"/"update2" to their monitor; it runs on
// the connection's read goroutine, so updates are applied in order.
func (c *Client) handleNotification(conn *rpcConn, m *Message) {
	if m.Method != "update" && m.Method != "update2" {
		return // "locked", "stolen", "update3": not used by this client
	}
	n, err := DecodeNotification(m)
	if err != nil {
		conn.close(err)
		return
	}
	var id string
	_ = json.Unmarshal(n.MonitorID, &id)
	c.mu.Lock()
	mon := c.monitors[id]
	c.mu.Unlock()
	if mon == nil {
		return
	}
	if err := mon.apply(conn, n); err != nil {
		conn.close(err)
	}
}
