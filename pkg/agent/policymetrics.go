package agent

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// policyCounters exposes the packet and byte counters OVS keeps on the
// NetworkPolicy flows, read at scrape time: per policy rule the new
// connections it allowed, per isolated pod and direction what was dropped.
type policyCounters struct {
	conn     *of.Conn
	policies *policySync
}

var (
	allowedPacketsDesc = prometheus.NewDesc("kubefay_networkpolicy_allowed_packets_total",
		"Packets of new connections allowed by a NetworkPolicy rule on this node.",
		[]string{"namespace", "policy", "direction", "rule"}, nil)
	allowedBytesDesc = prometheus.NewDesc("kubefay_networkpolicy_allowed_bytes_total",
		"Bytes of new connections allowed by a NetworkPolicy rule on this node.",
		[]string{"namespace", "policy", "direction", "rule"}, nil)
	deniedPacketsDesc = prometheus.NewDesc("kubefay_networkpolicy_denied_packets_total",
		"Packets dropped because no NetworkPolicy allowed them, per isolated pod and direction.",
		[]string{"pod", "direction"}, nil)
	deniedBytesDesc = prometheus.NewDesc("kubefay_networkpolicy_denied_bytes_total",
		"Bytes dropped because no NetworkPolicy allowed them, per isolated pod and direction.",
		[]string{"pod", "direction"}, nil)
)

// Describe implements prometheus.Collector.
func (c *policyCounters) Describe(ch chan<- *prometheus.Desc) {
	ch <- allowedPacketsDesc
	ch <- allowedBytesDesc
	ch <- deniedPacketsDesc
	ch <- deniedBytesDesc
}

// Collect implements prometheus.Collector: one flow-stats request for every
// NetworkPolicy flow, summed per rule (a rule may span several flows).
func (c *policyCounters) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := c.conn.FlowStats(ctx, &of.FlowFilter{Table: of.TableAll,
		Cookie: pipeline.Cookie(pipeline.FeatureNetworkPolicy, 0), CookieMask: pipeline.CookieMagicMask | pipeline.CookieFeatMask})
	if err != nil {
		klog.ErrorS(err, "read NetworkPolicy flow counters")
		return
	}
	byCookie := map[uint64][2]uint64{}
	for _, s := range stats {
		v := byCookie[s.Flow.Cookie]
		byCookie[s.Flow.Cookie] = [2]uint64{v[0] + s.Packets, v[1] + s.Bytes}
	}
	c.policies.mu.Lock()
	rules := c.policies.engine.Rules()
	c.policies.mu.Unlock()
	type ruleKey struct{ ns, policy, dir, rule string }
	allowed := map[ruleKey][2]uint64{}
	for _, r := range rules {
		v, ok := byCookie[r.Cookie]
		if !ok {
			continue
		}
		if r.ConjID == 0 {
			ch <- prometheus.MustNewConstMetric(deniedPacketsDesc, prometheus.CounterValue, float64(v[0]), r.Pod, string(r.Direction))
			ch <- prometheus.MustNewConstMetric(deniedBytesDesc, prometheus.CounterValue, float64(v[1]), r.Pod, string(r.Direction))
			continue
		}
		k := ruleKey{r.Namespace, r.Policy, string(r.Direction), strconv.Itoa(r.RuleIndex)}
		a := allowed[k]
		allowed[k] = [2]uint64{a[0] + v[0], a[1] + v[1]}
	}
	for k, v := range allowed {
		ch <- prometheus.MustNewConstMetric(allowedPacketsDesc, prometheus.CounterValue, float64(v[0]), k.ns, k.policy, k.dir, k.rule)
		ch <- prometheus.MustNewConstMetric(allowedBytesDesc, prometheus.CounterValue, float64(v[1]), k.ns, k.policy, k.dir, k.rule)
	}
}
