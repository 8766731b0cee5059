package controller

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

var (
	subnetUsedDesc = prometheus.NewDesc("kubefay_subnet_used_ips",
		"Addresses allocated in the SubNet (its status.used, as `kubectl get subnet` shows).",
		[]string{"subnet"}, nil)
	subnetAvailableDesc = prometheus.NewDesc("kubefay_subnet_available_ips",
		"Addresses IPAM can still hand out in the SubNet (its status.available).",
		[]string{"subnet"}, nil)
	subnetCapacityDesc = prometheus.NewDesc("kubefay_subnet_capacity_ips",
		"Addresses IPAM can hand out in the SubNet in all (used + available: the CIDR minus network, broadcast, gateway and excludeIPs).",
		[]string{"subnet"}, nil)
)

// subnetUsage reports every SubNet's usage from its status at scrape time,
// read from the manager's cache (no API call).
type subnetUsage struct {
	reader atomic.Pointer[client.Reader]
}

// usage is registered once in controller-runtime's registry, which the
// manager's metrics server serves; Setup points it at its manager's cache
// (a process runs one manager; in tests the last one set up is reported).
var usage = &subnetUsage{}

func init() {
	metrics.Registry.MustRegister(usage)
}

func (u *subnetUsage) use(r client.Reader) { u.reader.Store(&r) }

// Describe implements prometheus.Collector.
func (u *subnetUsage) Describe(ch chan<- *prometheus.Desc) {
	ch <- subnetUsedDesc
	ch <- subnetAvailableDesc
	ch <- subnetCapacityDesc
}

// Collect implements prometheus.Collector.
func (u *subnetUsage) Collect(ch chan<- prometheus.Metric) {
	r := u.reader.Load()
	if r == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var list v1alpha1.SubNetList
	if err := (*r).List(ctx, &list); err != nil {
		klog.ErrorS(err, "subnet usage metrics: list SubNets")
		return
	}
	for _, s := range list.Items {
		st := s.Status
		ch <- prometheus.MustNewConstMetric(subnetUsedDesc, prometheus.GaugeValue, float64(st.Used), s.Name)
		ch <- prometheus.MustNewConstMetric(subnetAvailableDesc, prometheus.GaugeValue, float64(st.Available), s.Name)
		ch <- prometheus.MustNewConstMetric(subnetCapacityDesc, prometheus.GaugeValue, float64(st.Used+st.Available), s.Name)
	}
}
