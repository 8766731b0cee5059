package server

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the "result" label of kubefay_cni_requests_total.
const (
	resultSuccess = "success"
	resultError   = "error"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubefay_cni_requests_total",
			Help: "CNI requests served by the kubefay agent, by command and result (success or error).",
		}, []string{"command", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubefay_cni_errors_total",
			Help: "CNI requests the kubefay agent answered with an error, by command and CNI error code (7 invalid netns, 11 try again later, 999 internal, ...).",
		}, []string{"command", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kubefay_cni_request_duration_seconds",
			Help: "Time the kubefay agent took to serve a CNI request, queueing included, by command.",
			// 1 ms .. ~33 s
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"command"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubefay_cni_requests_in_flight",
			Help: "CNI requests the kubefay agent is serving or queueing now.",
		}),
	}
	if reg != nil {
		m.requests = register(reg, m.requests)
		m.errors = register(reg, m.errors)
		m.duration = register(reg, m.duration)
		m.inFlight = register(reg, m.inFlight)
	}
	return m
}

// register registers c, or returns the collector already registered under
// the same name (a second server in the same process).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// failed counts an error answer to cmd with its CNI code.
func (m *metrics) failed(cmd string, code uint) {
	m.requests.WithLabelValues(cmd, resultError).Inc()
	m.errors.WithLabelValues(cmd, strconv.FormatUint(uint64(code), 10)).Inc()
}
