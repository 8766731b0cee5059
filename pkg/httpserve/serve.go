// Package httpserve runs an HTTP server on a listener for as long as a
// context lives: the agent's health/metrics endpoints, its control socket
// and the authenticated metrics endpoints all serve this way.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"k8s.io/klog/v2"
)

// Serve serves h on ln until ctx ends, then shuts the server down (2 s for
// requests in flight); it returns at once. what names the server in the log
// when it stops with an error.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, what string) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, what+" stopped", "addr", ln.Addr().String())
		}
	}()
}
