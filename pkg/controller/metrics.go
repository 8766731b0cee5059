package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	gcReleased = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubefay_ipam_gc_released_allocations_total",
		Help: "Allocations freed by the IPAM garbage collector because their pod or node is gone.",
	})
	gcDeleted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kubefay_ipam_gc_deleted_blocks_total",
		Help: "Empty IPAM blocks of deleted nodes removed by the garbage collector.",
	})
)

func init() {
	metrics.Registry.MustRegister(gcReleased, gcDeleted)
}
