package ipam

import (
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Metrics are an Allocator's Prometheus metrics: the IPAMBlock writes it
// sends and the size of its batches. Register them (Metrics is a
// prometheus.Collector) and pass them in Options. A nil *Metrics counts
// nothing.
type Metrics struct {
	writes  *prometheus.CounterVec
	batches prometheus.Histogram
}

// NewMetrics returns a set of Allocator metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubefay_ipam_api_writes_total",
			Help: "IPAMBlock writes sent to the API server, by verb (create, update) and result (ok, conflict, error).",
		}, []string{"verb", "result"}),
		batches: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubefay_ipam_batch_size",
			Help:    "Requests (allocations, releases) of one node and subnet handled together, in one write per block.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 8),
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.writes.Describe(ch)
	m.batches.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.writes.Collect(ch)
	m.batches.Collect(ch)
}

func (m *Metrics) wrote(create bool, err error) {
	if m == nil {
		return
	}
	verb, result := "update", "ok"
	if create {
		verb = "create"
	}
	switch {
	case err == nil:
	case apierrors.IsConflict(err), apierrors.IsAlreadyExists(err):
		result = "conflict"
	default:
		result = "error"
	}
	m.writes.WithLabelValues(verb, result).Inc()
}

func (m *Metrics) batch(n int) {
	if m != nil {
		m.batches.Observe(float64(n))
	}
}
