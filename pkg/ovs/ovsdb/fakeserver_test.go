package ovsdb

import (
	"encoding/json"
	"net"
	"sync"
	"testing"
)

// fakeServer is a scriptable JSON-RPC peer on 127.0.0.1 for client tests.
type fakeServer struct {
	t  testing.TB
	ln net.Listener

	mu       sync.Mutex
	conns    []*fakeConn
	handlers map[string]func(fc *fakeConn, params []json.RawMessage) (result, errObj any)
	// received collects requests and responses from the client.
	received chan *Message
	accepted chan *fakeConn
}

type fakeConn struct {
	nc  net.Conn
	wmu sync.Mutex
	enc *json.Encoder
}

func (fc *fakeConn) send(v any) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	_ = fc.enc.Encode(v)
}

func newFakeServer(t testing.TB) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln, handlers: map[string]func(*fakeConn, []json.RawMessage) (any, any){},
		received: make(chan *Message, 256), accepted: make(chan *fakeConn, 16)}
	s.handle("echo", func(_ *fakeConn, p []json.RawMessage) (any, any) { return p, nil })
	s.handle("get_schema", func(_ *fakeConn, _ []json.RawMessage) (any, any) { return json.RawMessage(testSchema), nil })
	t.Cleanup(s.close)
	go s.accept()
	return s
}

func (s *fakeServer) endpoint() string { return "tcp:" + s.ln.Addr().String() }

func (s *fakeServer) handle(method string, h func(*fakeConn, []json.RawMessage) (any, any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[method] = h
}

func (s *fakeServer) accept() {
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		fc := &fakeConn{nc: nc, enc: json.NewEncoder(nc)}
		s.mu.Lock()
		s.conns = append(s.conns, fc)
		s.mu.Unlock()
		s.accepted <- fc
		go s.serve(fc)
	}
}

func (s *fakeServer) serve(fc *fakeConn) {
	dec := json.NewDecoder(fc.nc)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return
		}
		m, err := DecodeMessage(raw)
		if err != nil {
			s.t.Errorf("fake server got a malformed message %s: %v", raw, err)
			return
		}
		select {
		case s.received <- m:
		default:
		}
		if m.Kind != KindRequest {
			continue
		}
		s.mu.Lock()
		h := s.handlers[m.Method]
		s.mu.Unlock()
		if h == nil {
			fc.send(response{ID: m.ID, Error: map[string]string{"error": "unknown method"}})
			continue
		}
		res, errObj := h(fc, m.Params)
		if res == nil && errObj == nil {
			continue // handler chose not to answer
		}
		fc.send(response{ID: m.ID, Result: res, Error: errObj})
	}
}

// dropAll closes every client connection (the listener stays).
func (s *fakeServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fc := range s.conns {
		_ = fc.nc.Close()
	}
	s.conns = nil
}

func (s *fakeServer) close() {
	_ = s.ln.Close()
	s.dropAll()
}
