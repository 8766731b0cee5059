package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kubefay/kubefay/pkg/ipam"
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

// ipamMetrics count the IPAM writes of the garbage collector's allocator
// (shared by every manager of the process: one set of series).
var ipamMetrics = ipam.NewMetrics()

func init() {
	metrics.Registry.MustRegister(gcReleased, gcDeleted, ipamMetrics)
}
