package agent

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

var (
	flowsDesc = prometheus.NewDesc("kubefay_flows",
		"OpenFlow flows the agent wants on br-int, by pipeline table and owner kind (pod, node, policy, ...).",
		[]string{"table", "owner"}, nil)
	podInterfacesDesc = prometheus.NewDesc("kubefay_pod_interfaces",
		"Pod interfaces attached to br-int on this node (pods with kubefay networking).",
		[]string{"node"}, nil)
	ofReconnectsDesc = prometheus.NewDesc("kubefay_ovs_openflow_reconnects_total",
		"Times the agent's OpenFlow connection to ovs-vswitchd was re-established after the first (ovs-vswitchd restarts, lost connections); each one reinstalls every flow.",
		nil, nil)
	ofConnectedDesc = prometheus.NewDesc("kubefay_ovs_openflow_connected",
		"1 while the agent's OpenFlow connection to ovs-vswitchd is up, else 0.",
		nil, nil)
)

// stateMetrics reports, at scrape time, what the agent holds: its desired
// flows counted by table and owner kind, the pods attached, and its
// OpenFlow session. Counting is over an in-memory snapshot: no OVS round
// trip.
type stateMetrics struct {
	node  string
	flows func() map[string][]*of.Flow // flowsync.Syncer.Owners
	sess  *ofSession
}

// Describe implements prometheus.Collector.
func (m *stateMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- flowsDesc
	ch <- podInterfacesDesc
	ch <- ofReconnectsDesc
	ch <- ofConnectedDesc
}

// Collect implements prometheus.Collector.
func (m *stateMetrics) Collect(ch chan<- prometheus.Metric) {
	type key struct{ table, owner string }
	counts := map[key]int{}
	pods := 0
	for owner, flows := range m.flows() {
		kind, _, _ := strings.Cut(owner, "/")
		if kind == "pod" && len(flows) > 0 {
			pods++
		}
		for _, f := range flows {
			counts[key{tableName(f.Table), kind}]++
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(flowsDesc, prometheus.GaugeValue, float64(n), k.table, k.owner)
	}
	ch <- prometheus.MustNewConstMetric(podInterfacesDesc, prometheus.GaugeValue, float64(pods), m.node)
	if m.sess != nil {
		ch <- prometheus.MustNewConstMetric(ofReconnectsDesc, prometheus.CounterValue, float64(max(m.sess.connects.Load()-1, 0)))
		up := 0.0
		if m.sess.up.Load() {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(ofConnectedDesc, prometheus.GaugeValue, up)
	}
}

// tableName is the pipeline's name of table id, or its number.
func tableName(id uint8) string {
	if t, ok := pipeline.TableByID(id); ok {
		return t.Name
	}
	return strconv.Itoa(int(id))
}
