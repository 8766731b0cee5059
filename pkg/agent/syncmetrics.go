package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// syncDurations is kubefay_sync_duration_seconds: how long the agent's
// level-based sync loops (node, networkpolicy) take per run.
type syncDurations struct{ h *prometheus.HistogramVec }

func newSyncDurations() *syncDurations {
	return &syncDurations{h: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kubefay_sync_duration_seconds",
		Help: "Duration of one run of an agent sync loop (node: routes, addresses, NAT and node flows; networkpolicy: policy flows), by loop and result (ok, error).",
		// 1 ms .. ~16 s
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"loop", "result"})}
}

// observer returns a syncLoop.observe reporting under loop.
func (s *syncDurations) observer(loop string) func(time.Duration, error) {
	return func(d time.Duration, err error) {
		result := "ok"
		if err != nil {
			result = "error"
		}
		s.h.WithLabelValues(loop, result).Observe(d.Seconds())
	}
}
