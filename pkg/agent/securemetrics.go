package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/rest"

	"github.com/kubefay/kubefay/pkg/httpserve"
	"github.com/kubefay/kubefay/pkg/metricsauth"
)

// SecureMetricsHandler serves g's metrics on /metrics to callers whose
// bearer token the API server authenticates and authorizes for get
// /metrics (pkg/metricsauth); restCfg is the agent's own identity, used to
// send the TokenReviews and SubjectAccessReviews.
func SecureMetricsHandler(restCfg *rest.Config, g prometheus.Gatherer) (http.Handler, error) {
	h, err := metricsauth.Protect(restCfg, promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	return mux, nil
}

// serveSecureMetrics serves SecureMetricsHandler over HTTPS on addr until
// ctx ends.
func serveSecureMetrics(ctx context.Context, addr string, restCfg *rest.Config, g prometheus.Gatherer) error {
	h, err := SecureMetricsHandler(restCfg, g)
	if err != nil {
		return err
	}
	ln, err := metricsauth.ListenTLS(addr)
	if err != nil {
		return fmt.Errorf("secure metrics on %s: %w", addr, err)
	}
	httpserve.Serve(ctx, ln, h, "metrics server")
	return nil
}
