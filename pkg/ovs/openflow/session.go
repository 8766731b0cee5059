package openflow

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// session is one TCP/unix connection to the switch after a successful
// handshake. A Conn replaces its session on reconnect.
type session struct {
	c        *Conn
	nc       net.Conn
	br       *bufio.Reader
	wmu      sync.Mutex
	features Features

	pmu     sync.Mutex
	pending map[uint32]*waiter
	ranges  []*rangeWaiter

	closeOnce sync.Once
	closed    chan struct{}
	err       error

	lastRecv atomic.Int64
	pktIn    chan *PacketIn
}

// waiter receives the replies that carry one xid.
type waiter struct {
	ch   chan *Message
	done chan struct{}
}

// rangeWaiter collects the errors for a block of xids (bundle adds, batched
// flow mods); successful messages of that kind get no reply.
type rangeWaiter struct {
	lo, hi uint32
	mu     sync.Mutex
	errs   []*Error
}

func (r *rangeWaiter) errors() []*Error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Error(nil), r.errs...)
}

func newSession(c *Conn, nc net.Conn) *session {
	s := &session{c: c, nc: nc, br: bufio.NewReaderSize(nc, 64<<10),
		pending: map[uint32]*waiter{}, closed: make(chan struct{}), pktIn: make(chan *PacketIn, 1024)}
	s.lastRecv.Store(time.Now().UnixNano())
	return s
}

func (s *session) close(err error) {
	s.closeOnce.Do(func() {
		s.err = err
		close(s.closed)
		s.nc.Close()
	})
}

// readMsg reads one whole message from the socket.
func (s *session) readMsg() (*Message, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(s.br, hdr[:]); err != nil {
		return nil, err
	}
	h, err := ParseHeader(hdr[:])
	if err != nil {
		return nil, err
	}
	buf := make([]byte, h.Length)
	copy(buf, hdr[:])
	if _, err := io.ReadFull(s.br, buf[headerLen:]); err != nil {
		return nil, err
	}
	return &Message{Header: h, Data: buf}, nil
}

// handshake exchanges hellos, checks that both sides speak OpenFlow 1.5,
// fetches the features and asks for packet-ins.
func (s *session) handshake(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok {
		s.nc.SetDeadline(dl)
		defer s.nc.SetDeadline(time.Time{})
	}
	helloXid := s.c.nextXids(1)
	if _, err := s.nc.Write(encodeHello(nil, helloXid)); err != nil {
		return err
	}
	featXid := uint32(0)
	for {
		m, err := s.readMsg()
		if err != nil {
			return fmt.Errorf("openflow: handshake with %s: %w", s.c.addr, err)
		}
		switch m.Type {
		case TypeHello:
			bitmap, err := ParseHello(m)
			if err != nil {
				return err
			}
			if bitmap&(1<<Version) == 0 {
				s.nc.Write(encodeError(nil, m.Xid, ErrHelloFailed, CodeHelloIncompatible, []byte("OpenFlow 1.5 required")))
				return fmt.Errorf("openflow: switch does not speak OpenFlow 1.5 (version bitmap %#x); enable it with ovs-vsctl set bridge <br> protocols=OpenFlow15", bitmap)
			}
			featXid = s.c.nextXids(1)
			if _, err := s.nc.Write(encodeSimple(nil, TypeFeaturesRequest, featXid, nil)); err != nil {
				return err
			}
		case TypeEchoRequest:
			if _, err := s.nc.Write(encodeSimple(nil, TypeEchoReply, m.Xid, m.Body())); err != nil {
				return err
			}
		case TypeError:
			e, err := ParseError(m)
			if err != nil {
				return err
			}
			return fmt.Errorf("openflow: handshake rejected: %w", e)
		case TypeFeaturesReply:
			if featXid == 0 || m.Xid != featXid {
				continue
			}
			f, err := parseFeatures(m)
			if err != nil {
				return err
			}
			s.features = f
			// Service connections (the bridge's mgmt socket) only get
			// packet-ins after asking for them with a miss_send_len.
			cfg := put16(put16(nil, 0), 0xffff)
			_, err = s.nc.Write(encodeSimple(nil, TypeSetConfig, s.c.nextXids(1), cfg))
			return err
		}
	}
}

func parseFeatures(m *Message) (Features, error) {
	b := m.Body()
	if len(b) < 24 {
		return Features{}, ErrShort
	}
	return Features{DatapathID: be64(b), NBuffers: be32(b[8:]), NTables: b[12], AuxiliaryID: b[13], Capabilities: be32(b[16:])}, nil
}

func (s *session) start() {
	go s.readLoop()
	go s.keepalive()
	if s.c.cfg.OnPacketIn != nil {
		go s.packetInLoop()
	}
}

func (s *session) readLoop() {
	for {
		m, err := s.readMsg()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: switch closed the connection", errConnLost)
			}
			s.close(err)
			return
		}
		s.lastRecv.Store(time.Now().UnixNano())
		s.dispatch(m)
	}
}

func (s *session) dispatch(m *Message) {
	switch m.Type {
	case TypeEchoRequest:
		reply := encodeSimple(nil, TypeEchoReply, m.Xid, m.Body())
		go s.write(context.Background(), reply)
		return
	case TypePacketIn:
		if pi, err := ParsePacketIn(m); err == nil {
			select {
			case s.pktIn <- pi:
			default:
				s.c.pktInDropped.Add(1)
			}
		}
		return
	}
	s.pmu.Lock()
	w := s.pending[m.Xid]
	var r *rangeWaiter
	if w == nil && m.Type == TypeError {
		for _, rw := range s.ranges {
			if m.Xid >= rw.lo && m.Xid <= rw.hi {
				r = rw
				break
			}
		}
	}
	s.pmu.Unlock()
	switch {
	case w != nil:
		select {
		case w.ch <- m:
		case <-w.done:
		case <-s.closed:
		}
	case r != nil:
		if e, err := ParseError(m); err == nil {
			r.mu.Lock()
			r.errs = append(r.errs, e)
			r.mu.Unlock()
		}
	case m.Type == TypeError:
		if e, err := ParseError(m); err == nil && s.c.cfg.OnAsyncError != nil {
			s.c.cfg.OnAsyncError(e)
		}
	}
}

func (s *session) keepalive() {
	iv := s.c.cfg.EchoInterval
	t := time.NewTicker(iv / 2)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
		}
		idle := time.Since(time.Unix(0, s.lastRecv.Load()))
		if idle >= iv+s.c.cfg.EchoTimeout {
			s.close(fmt.Errorf("%w: no echo reply for %v", errConnLost, idle.Round(time.Millisecond)))
			return
		}
		if idle >= iv {
			s.write(context.Background(), encodeSimple(nil, TypeEchoRequest, s.c.nextXids(1), nil))
		}
	}
}

func (s *session) packetInLoop() {
	for {
		select {
		case <-s.closed:
			return
		case pi := <-s.pktIn:
			s.c.cfg.OnPacketIn(pi)
		}
	}
}

// write sends bufs as one writev. A failed or timed-out write leaves the
// stream in an unknown state, so it ends the session.
func (s *session) write(ctx context.Context, bufs ...[]byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.closed:
		return s.lostErr()
	default:
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(s.c.cfg.WriteTimeout)
	}
	s.nc.SetWriteDeadline(dl)
	nb := net.Buffers(bufs)
	if _, err := nb.WriteTo(s.nc); err != nil {
		s.close(fmt.Errorf("%w: write: %v", errConnLost, err))
		return s.lostErr()
	}
	return nil
}

func (s *session) lostErr() error {
	if s.err != nil && (errors.Is(s.err, ErrClosed) || errors.Is(s.err, errConnLost)) {
		return s.err
	}
	return fmt.Errorf("%w: %v", errConnLost, s.err)
}

func (s *session) register(xid uint32) *waiter {
	w := &waiter{ch: make(chan *Message, 16), done: make(chan struct{})}
	s.pmu.Lock()
	s.pending[xid] = w
	s.pmu.Unlock()
	return w
}

func (s *session) unregister(xid uint32, w *waiter) {
	s.pmu.Lock()
	if s.pending[xid] == w {
		delete(s.pending, xid)
	}
	s.pmu.Unlock()
	close(w.done)
}

func (s *session) addRange(lo, hi uint32) *rangeWaiter {
	r := &rangeWaiter{lo: lo, hi: hi}
	s.pmu.Lock()
	s.ranges = append(s.ranges, r)
	s.pmu.Unlock()
	return r
}

func (s *session) removeRange(r *rangeWaiter) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	for i, x := range s.ranges {
		if x == r {
			s.ranges = append(s.ranges[:i], s.ranges[i+1:]...)
			return
		}
	}
}

// await returns the next message for w.
func (s *session) await(ctx context.Context, w *waiter) (*Message, error) {
	select {
	case m := <-w.ch:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closed:
		// A reply may have raced with the close.
		select {
		case m := <-w.ch:
			return m, nil
		default:
		}
		return nil, s.lostErr()
	}
}

// roundTrip sends one request and returns its single reply; an OFPT_ERROR
// reply is returned as *Error.
func (s *session) roundTrip(ctx context.Context, xid uint32, msg []byte) (*Message, error) {
	w := s.register(xid)
	defer s.unregister(xid, w)
	if err := s.write(ctx, msg); err != nil {
		return nil, err
	}
	m, err := s.await(ctx, w)
	if err != nil {
		return nil, err
	}
	if m.Type == TypeError {
		e, err := ParseError(m)
		if err != nil {
			return nil, err
		}
		return nil, e
	}
	return m, nil
}

// Barrier waits until the switch has processed every message sent before it.
func (c *Conn) Barrier(ctx context.Context) error {
	s, err := c.session()
	if err != nil {
		return err
	}
	xid := c.nextXids(1)
	_, err = s.roundTrip(ctx, xid, encodeSimple(nil, TypeBarrierRequest, xid, nil))
	return err
}

// Echo sends an echo request and returns the round-trip time.
func (c *Conn) Echo(ctx context.Context) (time.Duration, error) {
	s, err := c.session()
	if err != nil {
		return 0, err
	}
	xid := c.nextXids(1)
	start := time.Now()
	if _, err := s.roundTrip(ctx, xid, encodeSimple(nil, TypeEchoRequest, xid, []byte("kubefay"))); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
