package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// addPhases name the phases of a CNI ADD (CNIHandler.Add); ipam runs
// beside the first part of veth and ovs_port.
var addPhases = [4]string{"ipam", "veth", "ovs_port", "flows"}

// Indexes of addPhases.
const (
	phaseIPAM = iota
	phaseVeth
	phasePort
	phaseFlows
)

// addTimes are the phases an ADD ran and how long each took.
type addTimes struct {
	d   [len(addPhases)]time.Duration
	ran [len(addPhases)]bool
}

// since adds the time since start to phase i.
func (t *addTimes) since(i int, start time.Time) {
	t.d[i] += time.Since(start)
	t.ran[i] = true
}

// Stages of a CNI ADD that fail before its first phase.
const (
	addStageNotInitialized = "not_initialized" // the agent's first sync is not done
	addStageRequest        = "invalid_request" // no netns, no pod name
	addStagePodInfo        = "pod_info"        // namespace's subnet, static IP annotation
)

// AddMetrics are the CNI ADD's Prometheus metrics: how long each phase
// takes and where ADDs fail. A nil *AddMetrics counts nothing.
type AddMetrics struct {
	phases    *prometheus.HistogramVec
	failures  *prometheus.CounterVec
	teardowns prometheus.Gauge
}

// NewAddMetrics returns a set of ADD metrics; register them (AddMetrics is
// a prometheus.Collector).
func NewAddMetrics() *AddMetrics {
	return &AddMetrics{
		phases: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kubefay_cni_add_phase_duration_seconds",
			Help: "Time a CNI ADD spent in each phase: ipam (address allocation, beside the veth pair and port creation), veth (interface into the pod), ovs_port (port on br-int and its record), flows (pod flows installed). A failed ADD reports the phases it ran, the failing one included.",
			// 0.5 ms .. ~16 s
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"phase"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubefay_cni_add_failures_total",
			Help: "CNI ADDs that failed, by the stage that failed: not_initialized, invalid_request, pod_info, or a phase (ipam, veth, ovs_port, flows).",
		}, []string{"stage"}),
		teardowns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubefay_cni_teardowns_pending",
			Help: "Answered CNI DELs whose veth deletion and address release are still running (or being retried).",
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *AddMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.phases.Describe(ch)
	m.failures.Describe(ch)
	m.teardowns.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *AddMetrics) Collect(ch chan<- prometheus.Metric) {
	m.phases.Collect(ch)
	m.failures.Collect(ch)
	m.teardowns.Collect(ch)
}

// teardownsPending records how many DEL teardowns are running.
func (m *AddMetrics) teardownsPending(n int) {
	if m != nil {
		m.teardowns.Set(float64(n))
	}
}

// done records an ADD's phases and, when it failed, one failure of stage:
// the phase that failed or the pre-phase stage it reached.
func (m *AddMetrics) done(t *addTimes, stage string, err error) {
	if m == nil {
		return
	}
	for i, d := range t.d {
		if t.ran[i] {
			m.phases.WithLabelValues(addPhases[i]).Observe(d.Seconds())
		}
	}
	if err != nil {
		m.failures.WithLabelValues(stage).Inc()
	}
}
