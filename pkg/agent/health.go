package agent

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kubefay/kubefay/pkg/httpserve"
)

// health is the agent's readiness and liveness state, served with the
// Prometheus metrics on one address (config metricsAddr).
type health struct {
	ready  atomic.Bool
	inited atomic.Bool  // the first complete sync is done (never unset)
	reason atomic.Value // string: why not ready
	synced atomic.Int64 // unix nanoseconds of the last successful sync
}

func (h *health) setNotReady(why string) { h.ready.Store(false); h.reason.Store(why) }
func (h *health) setReady() {
	h.ready.Store(true)
	h.inited.Store(true)
	h.reason.Store("")
	h.synced.Store(time.Now().UnixNano())
}

// lastSync is when the node's state was last applied successfully (zero: never).
func (h *health) lastSync() time.Time {
	if n := h.synced.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Ready reports whether the node is set up and its last sync succeeded.
func (h *health) Ready() bool { return h.ready.Load() }

// Initialized reports whether a complete sync (pods restored, policies
// loaded, node flows installed) has ever succeeded since the agent started.
func (h *health) Initialized() bool { return h.inited.Load() }

func (h *health) handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !h.ready.Load() {
			why, _ := h.reason.Load().(string)
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

// newRegistry returns a registry with the Go and process collectors and
// kubefay's own metrics registered by the caller.
func newRegistry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(cs...)
	return reg
}

// serveHTTP serves h on addr until ctx ends.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	httpserve.Serve(ctx, ln, h, "metrics/health server")
	return nil
}
