package agent

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

func TestStateMetrics(t *testing.T) {
	flow := func(table uint8) *of.Flow { return &of.Flow{Table: table} }
	tests := []struct {
		name     string
		owners   map[string][]*of.Flow
		connects int64
		up       bool
		want     string
	}{
		{name: "nothing yet", owners: nil, want: `
# HELP kubefay_ovs_openflow_connected 1 while the agent's OpenFlow connection to ovs-vswitchd is up, else 0.
# TYPE kubefay_ovs_openflow_connected gauge
kubefay_ovs_openflow_connected 0
# HELP kubefay_ovs_openflow_reconnects_total Times the agent's OpenFlow connection to ovs-vswitchd was re-established after the first (ovs-vswitchd restarts, lost connections); each one reinstalls every flow.
# TYPE kubefay_ovs_openflow_reconnects_total counter
kubefay_ovs_openflow_reconnects_total 0
# HELP kubefay_pod_interfaces Pod interfaces attached to br-int on this node (pods with kubefay networking).
# TYPE kubefay_pod_interfaces gauge
kubefay_pod_interfaces{node="n1"} 0
`},
		{name: "two pods, node flows, an unknown table, two reconnects",
			owners: map[string][]*of.Flow{
				"pod/c1/eth0":   {flow(pipeline.Classifier.ID), flow(pipeline.L2Forwarding.ID)},
				"pod/c2/eth0":   {flow(pipeline.Classifier.ID)},
				"pod/gone/eth0": nil, // released: counts no pod
				"node/base":     {flow(pipeline.Classifier.ID), flow(200)},
			},
			connects: 3, up: true, want: `
# HELP kubefay_flows OpenFlow flows the agent wants on br-int, by pipeline table and owner kind (pod, node, policy, ...).
# TYPE kubefay_flows gauge
kubefay_flows{owner="node",table="200"} 1
kubefay_flows{owner="node",table="Classifier"} 1
kubefay_flows{owner="pod",table="Classifier"} 2
kubefay_flows{owner="pod",table="L2Forwarding"} 1
# HELP kubefay_ovs_openflow_connected 1 while the agent's OpenFlow connection to ovs-vswitchd is up, else 0.
# TYPE kubefay_ovs_openflow_connected gauge
kubefay_ovs_openflow_connected 1
# HELP kubefay_ovs_openflow_reconnects_total Times the agent's OpenFlow connection to ovs-vswitchd was re-established after the first (ovs-vswitchd restarts, lost connections); each one reinstalls every flow.
# TYPE kubefay_ovs_openflow_reconnects_total counter
kubefay_ovs_openflow_reconnects_total 2
# HELP kubefay_pod_interfaces Pod interfaces attached to br-int on this node (pods with kubefay networking).
# TYPE kubefay_pod_interfaces gauge
kubefay_pod_interfaces{node="n1"} 2
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := &ofSession{}
			sess.connects.Store(tt.connects)
			sess.up.Store(tt.up)
			m := &stateMetrics{node: "n1", sess: sess, flows: func() map[string][]*of.Flow { return tt.owners }}
			if err := testutil.CollectAndCompare(m, strings.NewReader(tt.want)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
