package ovsdb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// writeTimeout bounds one write to the socket.
const writeTimeout = 10 * time.Second

// errNotSent is returned by call when the session was already dead: the
// request never left, so the client may safely retry on a new session.
var errNotSent = fmt.Errorf("%w (request not sent)", ErrDisconnected)

// rpcConn is one JSON-RPC session on one socket. It dies on the first I/O
// or protocol error; the Client then replaces it.
type rpcConn struct {
	nc     net.Conn
	notify func(*rpcConn, *Message) // notifications, run on the read goroutine

	wmu sync.Mutex
	enc *json.Encoder

	mu      sync.Mutex
	pending map[string]*pendingCall
	nextID  uint64
	err     error
	done    chan struct{}

	lastRecv atomic.Int64 // unix nanoseconds
}

// pendingCall waits for one reply. onReply, if set, runs on the read
// goroutine before any later message is processed (monitor replies use it
// to load the cache before the first update is applied).
type pendingCall struct {
	method  string
	onReply func(result json.RawMessage) error
	ch      chan callResult
}

type callResult struct {
	result json.RawMessage
	err    error
}

func newRPCConn(nc net.Conn, notify func(*rpcConn, *Message)) *rpcConn {
	c := &rpcConn{nc: nc, notify: notify, enc: json.NewEncoder(nc), pending: map[string]*pendingCall{}, done: make(chan struct{})}
	c.lastRecv.Store(time.Now().UnixNano())
	go c.readLoop()
	return c
}

// close ends the session with err and fails every pending call.
func (c *rpcConn) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	close(c.done)
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, p := range pending {
		p.ch <- callResult{err: ErrDisconnected}
	}
}

// Err returns why the session ended (nil while alive).
func (c *rpcConn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *rpcConn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.enc.Encode(v); err != nil {
		c.close(fmt.Errorf("ovsdb: write: %w", err))
		return ErrDisconnected
	}
	return nil
}

// call sends a request and waits for its reply, ctx, or the session's end.
func (c *rpcConn) call(ctx context.Context, method string, params []any, onReply func(json.RawMessage) error) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	p := &pendingCall{method: method, onReply: onReply, ch: make(chan callResult, 1)}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, errNotSent
	}
	c.nextID++
	id := c.nextID
	key := strconv.FormatUint(id, 10)
	c.pending[key] = p
	c.mu.Unlock()
	if err := c.write(request{Method: method, Params: params, ID: id}); err != nil {
		return nil, err
	}
	select {
	case r := <-p.ch:
		return r.result, r.err
	case <-ctx.Done():
		c.mu.Lock()
		if c.pending != nil {
			delete(c.pending, key)
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (c *rpcConn) readLoop() {
	dec := json.NewDecoder(bufio.NewReaderSize(c.nc, 64<<10))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			c.close(fmt.Errorf("ovsdb: read: %w", err))
			return
		}
		c.lastRecv.Store(time.Now().UnixNano())
		m, err := DecodeMessage(raw)
		if err != nil {
			c.close(err)
			return
		}
		switch m.Kind {
		case KindResponse:
			c.handleResponse(m)
		case KindRequest:
			c.handleRequest(m)
		case KindNotification:
			c.notify(c, m)
		}
	}
}

func (c *rpcConn) handleResponse(m *Message) {
	var key string
	var n uint64
	if json.Unmarshal(m.ID, &n) == nil {
		key = strconv.FormatUint(n, 10)
	}
	c.mu.Lock()
	p := c.pending[key]
	if p != nil {
		delete(c.pending, key)
	}
	c.mu.Unlock()
	if p == nil {
		return // late reply of a cancelled call
	}
	r := callResult{result: m.Result}
	if m.Error != nil {
		r = callResult{err: &RPCError{Method: p.method, Raw: m.Error}}
	} else if p.onReply != nil {
		r.err = p.onReply(m.Result)
	}
	p.ch <- r
}

// handleRequest answers server requests: echo, and an error for others.
func (c *rpcConn) handleRequest(m *Message) {
	if m.Method == "echo" {
		_ = c.write(response{ID: m.ID, Result: m.Params, Error: nil})
		return
	}
	_ = c.write(response{ID: m.ID, Result: nil, Error: map[string]string{"error": "unknown method", "details": m.Method}})
}

// keepalive sends an echo whenever nothing was received for interval and
// drops the session if that echo is not answered within another interval.
func (c *rpcConn) keepalive(interval time.Duration) {
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, c.lastRecv.Load()))
		if idle < interval {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), interval)
		_, err := c.call(ctx, "echo", []any{"keepalive"}, nil)
		cancel()
		if err != nil && !errors.Is(err, ErrDisconnected) {
			c.close(fmt.Errorf("ovsdb: keepalive echo: %w", err))
			return
		}
	}
}
