package controller

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kubefay/kubefay/pkg/httpserve"
)

// metricsOptions returns the manager's metrics server: plain HTTP on
// MetricsAddress, or, with SecureMetricsAddress, HTTPS there with every
// request authenticated and authorized by the API server (the plain one is
// then served by plainMetrics).
func metricsOptions(cfg *Config) metricsserver.Options {
	if cfg.SecureMetricsAddress == "" {
		return metricsserver.Options{BindAddress: cfg.MetricsAddress}
	}
	return metricsserver.Options{
		BindAddress:    cfg.SecureMetricsAddress,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		TLSOpts:        []func(*tls.Config){func(c *tls.Config) { c.MinVersion = tls.VersionTLS12 }},
	}
}

// plainMetrics serves the manager's registry without authentication, on a
// loopback address for local debugging, on every replica (leader or not).
type plainMetrics struct{ addr string }

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (plainMetrics) NeedLeaderElection() bool { return false }

// Start implements manager.Runnable.
func (p plainMetrics) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(metrics.Registry, promhttp.HandlerOpts{}))
	httpserve.Serve(ctx, ln, mux, "metrics server")
	<-ctx.Done()
	return nil
}
