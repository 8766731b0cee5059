package ovsdb

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func dialFake(t *testing.T, s *fakeServer, opts Options) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), s.endpoint(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct{ in, network, addr string }{
		{"unix:/run/openvswitch/db.sock", "unix", "/run/openvswitch/db.sock"},
		{"tcp:127.0.0.1:6640", "tcp", "127.0.0.1:6640"},
		{"tcp:[::1]:6640", "tcp", "[::1]:6640"},
	}
	for _, tt := range tests {
		n, a, err := ParseEndpoint(tt.in)
		if err != nil || n != tt.network || a != tt.addr {
			t.Errorf("%s: %s %s %v", tt.in, n, a, err)
		}
	}
	for _, bad := range []string{"", "unix:", "tcp:1.2.3.4", "ssl:1.2.3.4:6640", "/run/db.sock"} {
		if _, _, err := ParseEndpoint(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientCallAndEchoOverTCP(t *testing.T) {
	s := newFakeServer(t)
	s.handle("list_dbs", func(*fakeConn, []json.RawMessage) (any, any) { return []string{"Open_vSwitch"}, nil })
	c := dialFake(t, s, Options{EchoInterval: -1})
	ctx := testCtx(t)
	if err := c.Echo(ctx); err != nil {
		t.Fatal(err)
	}
	var dbs []string
	if err := c.Call(ctx, "list_dbs", nil, &dbs); err != nil || len(dbs) != 1 {
		t.Fatalf("list_dbs = %v, %v", dbs, err)
	}
	var rpcErr *RPCError
	if err := c.Call(ctx, "nope", nil, nil); !errors.As(err, &rpcErr) {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestClientAnswersServerEcho(t *testing.T) {
	s := newFakeServer(t)
	dialFake(t, s, Options{EchoInterval: -1})
	fc := <-s.accepted
	fc.send(map[string]any{"method": "echo", "params": []string{"ping"}, "id": "echo-1"})
	ctx := testCtx(t)
	for {
		select {
		case m := <-s.received:
			if m.Kind == KindResponse && string(m.ID) == `"echo-1"` {
				if string(m.Result) != `["ping"]` {
					t.Fatalf("echo reply result %s", m.Result)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no reply to the server's echo")
		}
	}
}

func TestClientKeepaliveDropsDeadServer(t *testing.T) {
	s := newFakeServer(t)
	var echoes atomic.Int32
	s.handle("echo", func(_ *fakeConn, p []json.RawMessage) (any, any) {
		echoes.Add(1)
		return nil, nil // never answer: the server looks dead
	})
	disconnected := make(chan error, 4)
	c := dialFake(t, s, Options{EchoInterval: 40 * time.Millisecond, MinBackoff: time.Millisecond,
		OnDisconnect: func(err error) { disconnected <- err }})
	select {
	case err := <-disconnected:
		if echoes.Load() == 0 {
			t.Fatalf("disconnected (%v) without sending a keepalive echo", err)
		}
		t.Logf("dropped after unanswered keepalive: %v", err)
	case <-testCtx(t).Done():
		t.Fatal("unanswered keepalive did not drop the connection")
	}
	_ = c
}

func TestClientReconnectRemonitors(t *testing.T) {
	s := newFakeServer(t)
	var name atomic.Value
	name.Store("first")
	s.handle("monitor_cond", func(_ *fakeConn, p []json.RawMessage) (any, any) {
		if len(p) != 3 || string(p[1]) != `"kubefay-1"` {
			return nil, map[string]string{"error": "bad params"}
		}
		return map[string]any{"Interface": map[string]any{u1: map[string]any{"initial": map[string]any{"name": name.Load(), "ofport": 1}}}}, nil
	})
	reconnected := make(chan struct{}, 4)
	c := dialFake(t, s, Options{EchoInterval: -1, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		OnReconnect: func() { reconnected <- struct{}{} }})
	ctx := testCtx(t)
	mon, err := c.Monitor(ctx, MonitorSpec{DB: "T", Conditional: true, Tables: map[string]MonitorRequest{"Interface": {Columns: []string{"name", "ofport"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mon.Cache().RowByName("Interface", "first"); !ok {
		t.Fatal("initial row missing")
	}
	fc := <-s.accepted
	// A notification for the monitor is applied.
	fc.send(map[string]any{"method": "update2", "params": []any{"kubefay-1",
		map[string]any{"Interface": map[string]any{u1: map[string]any{"modify": map[string]any{"ofport": 4}}}}}, "id": nil})
	if err := mon.Cache().WaitFor(ctx, func() bool {
		r, _ := mon.Cache().Row("Interface", u1)
		n, _ := r.Int("ofport")
		return n == 4
	}); err != nil {
		t.Fatal(err)
	}

	name.Store("second")
	s.dropAll()
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatal("no reconnect")
	}
	if _, ok := mon.Cache().RowByName("Interface", "second"); !ok || !mon.Cache().Synced() {
		t.Fatal("cache not re-populated after reconnect")
	}
	if _, ok := mon.Cache().RowByName("Interface", "first"); ok {
		t.Fatal("stale row kept after reconnect")
	}
	if err := c.Echo(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestClientTransactErrors(t *testing.T) {
	s := newFakeServer(t)
	var mode atomic.Int32
	s.handle("transact", func(fc *fakeConn, p []json.RawMessage) (any, any) {
		switch mode.Load() {
		case 0:
			return []any{map[string]any{"count": 1}, map[string]any{"error": "constraint violation", "details": "no"}}, nil
		case 1:
			return nil, map[string]string{"error": "unknown database", "details": "X"}
		case 2:
			_ = fc.nc.Close()
			return nil, nil
		default:
			return nil, nil // never answers
		}
	})
	c := dialFake(t, s, Options{EchoInterval: -1, MinBackoff: time.Millisecond})
	ctx := testCtx(t)
	ops := []Operation{{Op: OpDelete, Table: "A"}, {Op: OpMutate, Table: "B"}}

	_, err := c.Transact(ctx, "T", ops...)
	var te *TransactionError
	if !errors.As(err, &te) || te.Index != 1 || te.Op != OpMutate || te.Table != "B" || te.Details != "no" {
		t.Fatalf("op error: %v", err)
	}
	mode.Store(1)
	var re *RPCError
	if _, err = c.Transact(ctx, "X", ops...); !errors.As(err, &re) || re.Error() != "ovsdb: transact: unknown database: X" {
		t.Fatalf("rpc error: %v", err)
	}
	mode.Store(2)
	if _, err = c.Transact(ctx, "T", ops...); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("dropped connection: %v", err)
	}
	mode.Store(3)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err = c.Transact(short, "T", ops...); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no answer: %v", err)
	}
	if c.Transactions() != 4 {
		t.Errorf("Transactions() = %d", c.Transactions())
	}
	_ = c.Close()
	if _, err = c.Transact(ctx, "T", ops...); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestDialFailure(t *testing.T) {
	s := newFakeServer(t)
	ep := s.endpoint()
	s.close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := Dial(ctx, ep, Options{}); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
	if _, err := Dial(ctx, "bogus", Options{}); err == nil {
		t.Fatal("Dial with a bad endpoint succeeded")
	}
}
