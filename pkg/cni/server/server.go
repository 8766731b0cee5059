// Package server is the agent's side of the CNI wire protocol: an HTTP+JSON
// server on a unix socket that decodes api.Requests from the kubefay-cni
// binary, runs them through a Handler with bounded concurrency (one at a time
// per container), and answers with a CNI result or CNI error. It logs every
// request with its duration and keeps Prometheus metrics.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/containerid"
	"github.com/kubefay/kubefay/pkg/keylock"
)

// Defaults of Options.
const (
	DefaultMaxConcurrent   = 8
	DefaultShutdownTimeout = 30 * time.Second
	DefaultSocketMode      = os.FileMode(0o600)
	maxRequestBytes        = 16 << 20
)

// Options configure a Server.
type Options struct {
	// SocketPath is where to listen; api.DefaultSocketPath when empty.
	SocketPath string
	// SocketMode is the socket's permission bits; 0600 when zero.
	SocketMode os.FileMode
	// MaxConcurrent bounds the requests handled at once (others queue);
	// DefaultMaxConcurrent when zero.
	MaxConcurrent int
	// ShutdownTimeout is how long Serve waits for in-flight requests after
	// its context ends before cancelling them; DefaultShutdownTimeout when
	// zero.
	ShutdownTimeout time.Duration
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// Server serves CNI requests on a unix socket.
type Server struct {
	h       Handler
	opts    Options
	metrics *metrics
	sem     chan struct{}
	keys    *keylock.Locks

	mu       sync.Mutex
	listener *net.UnixListener
	inode    uint64
}

// New returns a server dispatching to h. Call Listen then Serve, or Run.
func New(h Handler, opts Options) *Server {
	if opts.SocketPath == "" {
		opts.SocketPath = api.DefaultSocketPath
	}
	if opts.SocketMode == 0 {
		opts.SocketMode = DefaultSocketMode
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	return &Server{
		h:       h,
		opts:    opts,
		metrics: newMetrics(opts.Registerer),
		sem:     make(chan struct{}, opts.MaxConcurrent),
		keys:    &keylock.Locks{},
	}
}

// SocketPath returns the socket the server listens on.
func (s *Server) SocketPath() string { return s.opts.SocketPath }

// Listen binds the socket: creates its directory, replaces a stale socket,
// refuses to take over a live one, and applies SocketMode.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		return errors.New("already listening")
	}
	l, ino, err := listenUnix(s.opts.SocketPath, s.opts.SocketMode)
	if err != nil {
		return fmt.Errorf("listen on CNI socket %s: %w", s.opts.SocketPath, err)
	}
	s.listener, s.inode = l, ino
	return nil
}

// Run is Listen followed by Serve.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	return s.Serve(ctx)
}

// Serve answers requests until ctx ends, then stops accepting, waits up to
// ShutdownTimeout for in-flight requests, cancels those still running, and
// removes the socket.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	l := s.listener
	s.mu.Unlock()
	if l == nil {
		return errors.New("Serve called before Listen")
	}
	defer removeIfOurs(s.opts.SocketPath, s.inode)

	// Handlers get a context that survives the shutdown grace period but is
	// cancelled when it is over (or when the client hangs up).
	hardCtx, hardCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hardCancel()
	mux := http.NewServeMux()
	mux.HandleFunc(api.Path, s.serveCNI)
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return hardCtx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(newPeerListener(l)) }()
	klog.InfoS("CNI server listening", "socket", s.opts.SocketPath, "maxConcurrent", s.opts.MaxConcurrent)

	select {
	case err := <-errc:
		return fmt.Errorf("CNI server on %s: %w", s.opts.SocketPath, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		klog.InfoS("CNI server: grace period over, cancelling in-flight requests", "socket", s.opts.SocketPath)
		hardCancel()
		_ = hs.Close()
	}
	<-errc
	klog.InfoS("CNI server stopped", "socket", s.opts.SocketPath)
	return nil
}

// serveCNI is the HTTP handler of api.Path.
func (s *Server) serveCNI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeResponse(w, http.StatusMethodNotAllowed, &api.Response{
			Error: types.NewError(types.ErrInternal, "kubefay agent CNI endpoint accepts POST only", r.Method)})
		return
	}
	var req api.Request
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err == nil && len(body) > maxRequestBytes {
		err = fmt.Errorf("request larger than %d bytes", maxRequestBytes)
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeResponse(w, http.StatusBadRequest, &api.Response{
			Error: types.NewError(types.ErrDecodingFailure, "kubefay agent cannot decode the CNI request", err.Error())})
		return
	}
	if !req.Command.Valid() {
		writeResponse(w, http.StatusBadRequest, &api.Response{
			Error: types.NewError(types.ErrInvalidEnvironmentVariables, fmt.Sprintf("unknown CNI command %q", req.Command), "")})
		return
	}
	resp := s.handle(r.Context(), &req)
	status := http.StatusOK
	if resp.Error != nil {
		status = http.StatusInternalServerError
	}
	writeResponse(w, status, resp)
}

// handle runs one request through the handler, with queueing, logging and
// metrics.
func (s *Server) handle(ctx context.Context, req *api.Request) *api.Response {
	start := time.Now()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	resp := s.dispatchQueued(ctx, req)

	d := time.Since(start)
	cmd := string(req.Command)
	s.metrics.duration.WithLabelValues(cmd).Observe(d.Seconds())
	kv := []any{"command", cmd, "containerID", containerid.Short(req.ContainerID), "pod", req.Pod.String(),
		"netns", req.Netns, "ifName", req.IfName, "duration", d}
	if resp.Error != nil {
		s.metrics.failed(cmd, resp.Error.Code)
		kv = append(kv, "code", resp.Error.Code, "msg", resp.Error.Msg)
		if resp.Error.Details != "" {
			kv = append(kv, "details", resp.Error.Details)
		}
		klog.InfoS("CNI request failed", kv...)
	} else {
		s.metrics.requests.WithLabelValues(cmd, resultSuccess).Inc()
		klog.InfoS("CNI request", kv...)
	}
	return resp
}

// dispatchQueued waits for a concurrency slot and the container's lock.
func (s *Server) dispatchQueued(ctx context.Context, req *api.Request) *api.Response {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return &api.Response{Error: api.TryAgainLater("kubefay agent busy: CNI %s not started before the caller gave up", req.Command)}
	}
	if req.ContainerID != "" {
		unlock, err := s.keys.Lock(ctx, req.ContainerID)
		if err != nil {
			return &api.Response{Error: api.TryAgainLater("kubefay agent busy with another request for container %s", containerid.Short(req.ContainerID))}
		}
		defer unlock()
	}
	return s.dispatch(ctx, req)
}

// dispatch calls the handler, turning panics and errors into CNI errors.
func (s *Server) dispatch(ctx context.Context, req *api.Request) (resp *api.Response) {
	defer func() {
		if p := recover(); p != nil {
			klog.ErrorS(nil, "CNI handler panicked", "command", req.Command, "panic", p, "stack", string(debug.Stack()))
			resp = &api.Response{Error: types.NewError(types.ErrInternal, fmt.Sprintf("kubefay agent failed on CNI %s: %v", req.Command, p), "")}
		}
	}()
	var err error
	switch req.Command {
	case api.CommandAdd:
		var res *current.Result
		res, err = s.h.Add(ctx, req)
		if err == nil {
			return resultResponse(res)
		}
	case api.CommandDel:
		err = s.h.Del(ctx, req)
	case api.CommandCheck:
		err = s.h.Check(ctx, req)
	case api.CommandStatus:
		err = s.h.Status(ctx, req)
	case api.CommandGC:
		var gc struct {
			Valid []types.GCAttachment `json:"cni.dev/valid-attachments"`
		}
		if len(req.NetConf) > 0 {
			if jerr := json.Unmarshal(req.NetConf, &gc); jerr != nil {
				return &api.Response{Error: types.NewError(types.ErrDecodingFailure, "invalid cni.dev/valid-attachments", jerr.Error())}
			}
		}
		err = s.h.GC(ctx, req, gc.Valid)
	}
	if err != nil {
		return &api.Response{Error: api.AsCNIError(err)}
	}
	return &api.Response{}
}

// resultResponse encodes an ADD result (version 1.1.0 unless the handler set
// another 1.x version).
func resultResponse(res *current.Result) *api.Response {
	if res == nil {
		return &api.Response{Error: types.NewError(types.ErrInternal, "kubefay agent produced no result for ADD", "")}
	}
	if res.CNIVersion == "" {
		res.CNIVersion = current.ImplementedSpecVersion
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return &api.Response{Error: types.NewError(types.ErrInternal, "kubefay agent cannot encode the ADD result", err.Error())}
	}
	return &api.Response{Result: raw}
}

func writeResponse(w http.ResponseWriter, status int, resp *api.Response) {
	w.Header().Set("Content-Type", api.ContentType)
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		klog.V(2).InfoS("CNI server: cannot write response (client gone?)", "err", err)
	}
}
