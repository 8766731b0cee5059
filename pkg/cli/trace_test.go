package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
)

func tracePod(ns, name, node, ip string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{PodIP: ip, Phase: corev1.PodRunning}}
}

func agentPod(node string) *corev1.Pod {
	p := tracePod("kube-system", "kubefay-agent-"+node, node, "198.51.100.1")
	p.Labels = map[string]string{"app": "kubefay", "component": "agent"}
	return p
}

// fakeAgents answers like the agents of node-a (client, 10.192.0.3) and
// node-b (web, 10.192.0.70): node-a tunnels to node-b, which delivers.
type fakeAgents struct{ calls []string }

func (f *fakeAgents) call(_ context.Context, node, path string, body []byte) ([]byte, error) {
	f.calls = append(f.calls, node+" "+path+" "+string(body))
	ips := map[string]netip.Addr{"node-a": netip.MustParseAddr("198.51.100.11"), "node-b": netip.MustParseAddr("198.51.100.12")}
	switch path {
	case ctl.PathStatus:
		return json.Marshal(ctl.Status{Node: node, Version: "v1", OVSConnected: true, Ready: true, Pods: 2, DesiredFlows: 3,
			LastSync: testNow.Add(-30 * time.Second), Tables: []ctl.TableFlows{{Table: 0, Name: "Classifier", Flows: 2}, {Table: 80, Name: "Output", Flows: 1}}})
	case ctl.PathFlows:
		return json.Marshal(ctl.FlowsResponse{Node: node, Flows: []ctl.Flow{{Table: 60, TableName: "IngressRules", Priority: 100,
			Owner: "isolation of pod default/web (ingress)", Text: "table=60, priority=100,ip,nw_dst=10.192.0.70 actions=drop", Packets: 7}}})
	}
	var req ctl.TraceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	step := func(table pipeline.Table, owner string, actions ...string) trace.Step {
		return trace.Step{Table: table.ID, TableName: table.Name, Priority: 200, Owner: owner, Actions: actions}
	}
	r := ctl.TraceResponse{Node: node, NodeIP: ips[node]}
	switch {
	case node == "node-a" && req.FromPod == "default/client":
		r.Packet = trace.Packet{InPort: 5, SrcMAC: "0a:58:0a:c0:00:03", DstMAC: pipeline.RouterMAC.String(),
			SrcIP: netip.MustParseAddr("10.192.0.3"), DstIP: req.DstIP, Proto: req.Proto, DstPort: req.DstPort}
		last := step(pipeline.L3Forwarding, "tunnel to node node-b (block 10.192.0.64/26)", "set_field:198.51.100.12->tun_dst")
		r.Trace = &trace.Trace{Passes: []trace.Pass{{Steps: []trace.Step{step(pipeline.Classifier, "pod default/client")}},
			{CTState: "new|trk", Steps: []trace.Step{last}}}}
		r.Verdict = trace.Verdict{Outcome: trace.Tunneled, Port: 1, TunnelDst: ips["node-b"], Step: &last}
		r.Summary, r.TunnelNode = "sent to node node-b through tun0", "node-b"
	case node == "node-b" && req.Packet != nil && req.Packet.InPort == pipeline.TunnelOFPort &&
		req.Packet.TunSrc == ips["node-a"] && req.Packet.TunDst == ips["node-b"]:
		r.Packet = *req.Packet
		last := step(pipeline.Output, "base pipeline", "output:NXM_NX_REG1[]")
		r.Trace = &trace.Trace{Passes: []trace.Pass{{Steps: []trace.Step{step(pipeline.Classifier, "tunnel from node node-a")}},
			{CTState: "new|trk", Steps: []trace.Step{last}}}}
		r.Verdict = trace.Verdict{Outcome: trace.Delivered, Port: 4, Step: &last}
		r.Summary = "delivered to pod default/web (port 4)"
	default:
		return nil, fmt.Errorf("unexpected trace on %s: %s", node, body)
	}
	return json.Marshal(r)
}

func runWithAgents(t *testing.T, args ...string) (string, *fakeAgents, error) {
	t.Helper()
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{tracePod("default", "client", "node-a", "10.192.0.3"), tracePod("default", "web", "node-b", "10.192.0.70"),
		agentPod("node-a"), agentPod("node-b")}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	f := &fakeAgents{}
	var out bytes.Buffer
	o := &Options{Out: &out, ErrOut: &out, Now: func() time.Time { return testNow },
		NewClient: func() (client.Reader, error) { return c, nil }, CallAgent: f.call}
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return trimLines(out.String()), f, err
}

func TestTraceAcrossNodes(t *testing.T) {
	out, f, err := runWithAgents(t, "trace", "--from", "default/client", "--to", "default/web", "--port", "8080")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(f.calls) != 2 || !strings.HasPrefix(f.calls[0], "node-a /trace ") || !strings.HasPrefix(f.calls[1], "node-b /trace ") {
		t.Fatalf("calls %q", f.calls)
	}
	for _, want := range []string{
		"tcp 10.192.0.3:40000 -> 10.192.0.70:8080",
		"node node-a (198.51.100.11), packet enters on port 5, 0a:58:0a:c0:00:03",
		"  Classifier       prio 200   pod default/client",
		"  L3Forwarding     prio 200   tunnel to node node-b (block 10.192.0.64/26)   set_field:198.51.100.12->tun_dst",
		"  => sent to node node-b through tun0",
		"node node-b (198.51.100.12), packet enters on tun0 from 198.51.100.11",
		"  Classifier       prio 200   tunnel from node node-a",
	} {
		if !strings.Contains(squash(out), squash(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got := lines[len(lines)-1]; got != "delivered to pod default/web (port 4) (node node-b)" {
		t.Errorf("final line %q", got)
	}
}

// squash folds runs of spaces (tabwriter's padding) into one.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestTraceErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"trace", "--from", "default/nope", "--to", "10.0.0.1"}, `pod default/nope`},
		{[]string{"trace", "--from", "default/client", "--to", "default/nope"}, `pod default/nope`},
		{[]string{"trace", "--from", "default/client"}, `required flag(s) "to" not set`},
		{[]string{"trace", "--from", "default/client", "--to", "10.0.0.1", "--src-ip", "x"}, "--src-ip"},
		{[]string{"trace", "--from", "default/web", "--to", "10.0.0.1"}, "unexpected trace on node-b"},
	} {
		_, _, err := runWithAgents(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestFlowsAndAgentStatus(t *testing.T) {
	out, f, err := runWithAgents(t, "flows", "--pod", "default/web", "--table", "IngressRules")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || f.calls[0] != `node-b /flows {"pod":"default/web","table":"IngressRules"}` {
		t.Fatalf("calls %q", f.calls)
	}
	want := dedent(`
TABLE          PRIORITY   PACKETS   OWNER                                    FLOW
IngressRules   100        7         isolation of pod default/web (ingress)   table=60, priority=100,ip,nw_dst=10.192.0.70 actions=drop
`)
	if out != want {
		t.Errorf("flows:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = runWithAgents(t, "agent", "status")
	if err != nil {
		t.Fatal(err)
	}
	want = dedent(`
NODE     OVS         READY   PODS   FLOWS   LAST SYNC   VERSION
node-a   connected   yes     2      3/3     30s ago     v1
node-b   connected   yes     2      3/3     30s ago     v1

flows per table (installed):
TABLE          node-a   node-b
0 Classifier   2        2
80 Output      1        1
`)
	if out != want {
		t.Errorf("agent status:\n%s\nwant:\n%s", out, want)
	}
}
