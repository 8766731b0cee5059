package openflow

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Conn.
type Config struct {
	// Target is "unix:<path>" (e.g. /var/run/openvswitch/br-int.mgmt),
	// "tcp:<host>:<port>", or a bare socket path.
	Target string

	// OnConnect runs after every successful (re)connection; the agent
	// re-installs its flows here after ovs-vswitchd restarted. The Conn is
	// usable inside it; WaitConnected and Connect return only after it
	// succeeded. If it returns an error the connection is dropped and
	// retried after a back-off.
	OnConnect func(ctx context.Context, c *Conn) error
	// OnDisconnect is told why a session ended.
	OnDisconnect func(err error)
	// OnPacketIn receives packet-ins. It runs on one goroutine per session;
	// packet-ins arriving while it is busy are queued (up to 1024, then
	// dropped and counted in Stats).
	OnPacketIn func(*PacketIn)
	// OnAsyncError receives errors that do not answer a pending request.
	OnAsyncError func(*Error)

	// EchoInterval is how long the connection may be idle before an echo
	// request is sent (default 5s); after EchoInterval+EchoTimeout without
	// any message from the switch (default 10s) the session is dropped.
	EchoInterval time.Duration
	EchoTimeout  time.Duration // extra wait for any message after an echo request
	// MinBackoff and MaxBackoff bound the reconnect delay (defaults 100ms, 5s).
	MinBackoff time.Duration
	MaxBackoff time.Duration // upper bound of the reconnect delay
	// WriteTimeout bounds a single write when the request's context has no
	// deadline (default 60s).
	WriteTimeout time.Duration
}

func (c *Config) defaults() {
	if c.EchoInterval <= 0 {
		c.EchoInterval = 5 * time.Second
	}
	if c.EchoTimeout <= 0 {
		c.EchoTimeout = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 60 * time.Second
	}
}

// Features is the switch's OFPT_FEATURES_REPLY.
type Features struct {
	DatapathID   uint64 // datapath id of the bridge
	NBuffers     uint32 // packets the switch can buffer
	NTables      uint8  // number of flow tables
	AuxiliaryID  uint8  // 0 for the main connection
	Capabilities uint32 // OFPC_* bits
}

// Stats are counters of a Conn.
type Stats struct {
	Connects        uint64 // successful handshakes
	Disconnects     uint64 // sessions that ended
	PacketInDropped uint64 // packet-ins lost because OnPacketIn lagged
}

// Conn is a connection to one OpenFlow switch (one OVS bridge) that
// reconnects by itself. All methods are safe for concurrent use.
type Conn struct {
	cfg     Config
	network string
	addr    string

	xid atomic.Uint32

	mu      sync.Mutex
	sess    *session
	ready   chan struct{} // closed when sess becomes usable; replaced on loss
	closed  bool
	lastErr error

	cancel context.CancelFunc
	done   chan struct{}

	connects, disconnects, pktInDropped atomic.Uint64
}

// ParseTarget splits "unix:<path>" or "tcp:<host:port>" into a network and
// address for net.Dial. A bare path is treated as unix.
func ParseTarget(target string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(target, "unix:"):
		return "unix", strings.TrimPrefix(target, "unix:"), nil
	case strings.HasPrefix(target, "tcp:"):
		return "tcp", strings.TrimPrefix(target, "tcp:"), nil
	case strings.HasPrefix(target, "/"):
		return "unix", target, nil
	}
	return "", "", fmt.Errorf("openflow: target %q is neither unix:<path> nor tcp:<host>:<port>", target)
}

// Dial connects to target with default settings.
func Dial(ctx context.Context, target string) (*Conn, error) {
	return Connect(ctx, Config{Target: target})
}

// Connect connects to the switch and returns once the first session is up
// and cfg.OnConnect (if any) has succeeded, or ctx ends. Afterwards the Conn
// reconnects by itself with exponential back-off until Close is called.
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	cfg.defaults()
	network, addr, err := ParseTarget(cfg.Target)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &Conn{cfg: cfg, network: network, addr: addr, ready: make(chan struct{}),
		cancel: cancel, done: make(chan struct{})}
	go c.run(runCtx)
	if err := c.WaitConnected(ctx); err != nil {
		c.Close()
		c.mu.Lock()
		last := c.lastErr
		c.mu.Unlock()
		if last != nil {
			return nil, fmt.Errorf("%w (last error: %v)", err, last)
		}
		return nil, err
	}
	return c, nil
}

// WaitConnected blocks until a session is usable or ctx ends.
func (c *Conn) WaitConnected(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		if c.sess != nil {
			c.mu.Unlock()
			return nil
		}
		ready := c.ready
		c.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops reconnecting and closes the current session.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	s := c.sess
	c.sess = nil
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	c.mu.Unlock()
	c.cancel()
	if s != nil {
		s.close(ErrClosed)
	}
	<-c.done
	return nil
}

// Features returns the features reported by the switch on the current
// session.
func (c *Conn) Features() (Features, error) {
	s, err := c.session()
	if err != nil {
		return Features{}, err
	}
	return s.features, nil
}

// Stats returns the connection counters.
func (c *Conn) Stats() Stats {
	return Stats{Connects: c.connects.Load(), Disconnects: c.disconnects.Load(), PacketInDropped: c.pktInDropped.Load()}
}

// nextXid returns n consecutive transaction ids and the first of them.
func (c *Conn) nextXids(n uint32) uint32 {
	for {
		last := c.xid.Add(n)
		first := last - n + 1
		if first != 0 && first <= last { // skip 0 and wrap-around ranges
			return first
		}
	}
}

func (c *Conn) session() (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.sess == nil {
		return nil, ErrNotConnected
	}
	return c.sess, nil
}

// run is the reconnect loop.
func (c *Conn) run(ctx context.Context) {
	defer close(c.done)
	backoff := c.cfg.MinBackoff
	for ctx.Err() == nil {
		s, err := c.dial(ctx)
		if err == nil {
			c.connects.Add(1)
			err = c.activate(ctx, s)
			if err == nil {
				backoff = c.cfg.MinBackoff
				select {
				case <-s.closed:
				case <-ctx.Done():
					s.close(ErrClosed)
				}
				err = s.err
			}
			c.deactivate(s)
			c.disconnects.Add(1)
			if c.cfg.OnDisconnect != nil && ctx.Err() == nil {
				c.cfg.OnDisconnect(err)
			}
		}
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		// Full jitter keeps many agents from reconnecting in lock-step.
		delay := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
		if backoff *= 2; backoff > c.cfg.MaxBackoff {
			backoff = c.cfg.MaxBackoff
		}
	}
}

// activate runs OnConnect with the session available to it only, then
// publishes the session to everyone.
func (c *Conn) activate(ctx context.Context, s *session) error {
	if c.cfg.OnConnect != nil {
		c.mu.Lock()
		c.sess = s // visible to OnConnect's own requests
		c.mu.Unlock()
		err := c.cfg.OnConnect(ctx, c)
		if err != nil {
			s.close(fmt.Errorf("openflow: OnConnect: %w", err))
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		s.close(ErrClosed)
		return ErrClosed
	}
	c.sess = s
	close(c.ready)
	return nil
}

func (c *Conn) deactivate(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == s {
		c.sess = nil
	}
	if !c.closed {
		select {
		case <-c.ready:
			c.ready = make(chan struct{})
		default:
		}
	}
}

// dial opens the socket and performs the OpenFlow handshake.
func (c *Conn) dial(ctx context.Context) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, c.network, c.addr)
	if err != nil {
		return nil, err
	}
	s := newSession(c, nc)
	if err := s.handshake(dctx); err != nil {
		nc.Close()
		return nil, err
	}
	s.start()
	return s, nil
}

// errConnLost is returned to requests whose session ended before the reply.
var errConnLost = errors.New("openflow: connection to the switch lost")
