package networkpolicy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/ovs/ovstest"
)

// ovsScenario: web pods accept cli of prod on their named port http, db
// accepts namespace dev on udp/53 and may only talk to web pods on tcp/80.
func ovsScenario() *Engine {
	e := world()
	e.SetPolicy(mkPolicy("prod", "web", networkingv1.NetworkPolicySpec{PodSelector: web,
		Ingress: []ingress{{From: peers{podPeer(sel("app=cli"))}, Ports: ports{named("http")}}}}))
	e.SetPolicy(mkPolicy("prod", "db", networkingv1.NetworkPolicySpec{PodSelector: *sel("app=db"),
		Ingress: []ingress{{From: peers{nsPeer(sel("env=dev"))}, Ports: ports{proto(corev1.ProtocolUDP, 53)}}},
		Egress:  []egress{{To: peers{podPeer(sel("app=web"))}, Ports: ports{tcp(80)}}}}))
	e.SetPolicy(mkPolicy("prod", "ranges", networkingv1.NetworkPolicySpec{PodSelector: web,
		Ingress: []ingress{{From: peers{blockPeer("172.16.0.0/16", "172.16.1.0/24")}, Ports: ports{portRangeOf(1000, 1030), proto(corev1.ProtocolSCTP, 0)}}}}))
	return e
}

func requireOfctl(t *testing.T) string {
	p, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ovs-ofctl not installed (apt-get install openvswitch-switch)")
		}
		t.Skip("ovs-ofctl not installed (apt-get install openvswitch-switch)")
	}
	return p
}

// TestFlowsParseWithOvsOfctl: ovs-ofctl accepts every flow we render.
func TestFlowsParseWithOvsOfctl(t *testing.T) {
	tool := requireOfctl(t)
	lines := flowLines(ovsScenario().All())
	f := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-O", "OpenFlow15", "parse-flows", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl parse-flows: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "OFPT_FLOW_MOD"); n != len(lines) {
		t.Fatalf("ovs-ofctl parsed %d flow mods for %d flows:\n%s", n, len(lines), out)
	}
}

// TestTraceOnRealBridge installs the scenario's flows (plus table misses
// chaining the tables and an output at the end) on a real netdev bridge and
// traces packets through them.
func TestTraceOnRealBridge(t *testing.T) {
	inst := ovstest.Start(t)
	inst.AddBridge(t, "br-int")
	lines := flowLines(ovsScenario().All())
	lines = append(lines,
		// the policy tables, chained as in the pipeline, then out again
		fmt.Sprintf("table=0, priority=0 actions=goto_table:%d", pipeline.EgressRules.ID),
		fmt.Sprintf("table=%d, priority=0 actions=goto_table:%d", pipeline.EgressRules.ID, pipeline.EgressNext.ID),
		fmt.Sprintf("table=%d, priority=0 actions=goto_table:%d", pipeline.EgressNext.ID, pipeline.IngressRules.ID),
		fmt.Sprintf("table=%d, priority=0 actions=goto_table:%d", pipeline.IngressRules.ID, pipeline.IngressNext.ID),
		fmt.Sprintf("table=%d, priority=0 actions=in_port", pipeline.IngressNext.ID),
	)
	f := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inst.Ofctl(t, "--bundle", "add-flows", inst.MgmtSock("br-int"), f)
	dump := inst.Ofctl(t, "dump-flows", inst.MgmtSock("br-int"))
	if n := strings.Count(dump, "actions="); n != len(lines) {
		t.Fatalf("bridge holds %d flows, installed %d:\n%s", n, len(lines), dump)
	}
	cases := []struct {
		name, pkt string
		allowed   bool
	}{
		{"cli to web1 on its http port 80", "tcp,nw_src=10.0.9.2,nw_dst=10.0.0.1,tp_dst=80", true},
		{"cli to web1 on 8080 (web2's http)", "tcp,nw_src=10.0.9.2,nw_dst=10.0.0.1,tp_dst=8080", false},
		{"cli to web2 on its http port 8080", "tcp,nw_src=10.0.9.2,nw_dst=10.0.0.2,tp_dst=8080", true},
		{"dev cli to web1: not a peer", "tcp,nw_src=10.1.9.2,nw_dst=10.0.0.1,tp_dst=80", false},
		{"dev cli to db udp 53", "udp,nw_src=10.1.9.2,nw_dst=10.0.0.3,udp_dst=53", true},
		{"dev cli to db tcp 53", "tcp,nw_src=10.1.9.2,nw_dst=10.0.0.3,tp_dst=53", false},
		{"prod cli to db", "udp,nw_src=10.0.9.2,nw_dst=10.0.0.3,udp_dst=53", false},
		{"to a remote pod: not isolated here", "tcp,nw_src=10.0.9.2,nw_dst=10.0.9.1,tp_dst=22", true},
		{"db egress to remote web on 80", "tcp,nw_src=10.0.0.3,nw_dst=10.0.9.1,tp_dst=80", true},
		{"db egress to remote web on 81", "tcp,nw_src=10.0.0.3,nw_dst=10.0.9.1,tp_dst=81", false},
		{"db egress to cli", "tcp,nw_src=10.0.0.3,nw_dst=10.0.9.2,tp_dst=80", false},
		{"ipBlock, port in range", "tcp,nw_src=172.16.7.7,nw_dst=10.0.0.2,tp_dst=1017", true},
		{"ipBlock, range end", "tcp,nw_src=172.16.7.7,nw_dst=10.0.0.2,tp_dst=1030", true},
		{"ipBlock, past the range", "tcp,nw_src=172.16.7.7,nw_dst=10.0.0.2,tp_dst=1031", false},
		{"ipBlock except", "tcp,nw_src=172.16.1.7,nw_dst=10.0.0.2,tp_dst=1017", false},
		{"ipBlock sctp any port", "sctp,nw_src=172.16.9.9,nw_dst=10.0.0.1,sctp_dst=9", true},
	}
	for _, c := range cases {
		out := inst.Appctl(t, "ofproto/trace", "br-int", "in_port=LOCAL,"+c.pkt)
		i := strings.LastIndex(out, "Datapath actions:")
		if i < 0 {
			t.Fatalf("%s: no datapath actions in trace:\n%s", c.name, out)
		}
		dropped := strings.HasPrefix(strings.TrimSpace(out[i+len("Datapath actions:"):]), "drop")
		if dropped == c.allowed {
			t.Errorf("%s: allowed=%v, trace:\n%s", c.name, !dropped, out)
		}
	}
}
