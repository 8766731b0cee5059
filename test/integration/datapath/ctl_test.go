package datapath

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// TestControlSocket serves the agent's control API (the real backend) over
// its unix socket on a node with the real pipeline and asks it what
// `kubectl kubefay` asks: status, a pod's flows, and traces whose verdicts
// name the owners (pod, tunnel to a node, spoof guard).
func TestControlSocket(t *testing.T) {
	ctx := testCtx(t)
	n := startNode(t, ctx, netip.MustParseAddr("10.192.0.10"))
	n.addPod(t, ctx, "a")
	b := n.addPod(t, ctx, "b")
	remote := pipeline.RemoteBlock{CIDR: netip.MustParsePrefix("10.192.1.0/26"), NodeIP: netip.MustParseAddr("198.51.100.12")}
	n.flows.Set("tunnels", append(pipeline.TunnelFlows(remote), pipeline.TunnelSourceFlows(remote.NodeIP)...))
	if _, err := n.flows.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	node := func(name, ip string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}}}
	}
	cache := fake.NewClientBuilder().WithScheme(agent.Scheme()).WithObjects(
		node("node-1", "198.51.100.11"), node("node-2", "198.51.100.12"),
		&v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Spec: v1alpha1.SubNetSpec{CIDR: defaultCIDR.String()}},
		&v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: "default.10-192-1-0-26"},
			Spec: v1alpha1.IPAMBlockSpec{Subnet: "default", CIDR: remote.CIDR.String(), Node: "node-2"}},
	).Build()
	sock := filepath.Join(t.TempDir(), ctl.SocketName)
	backend := agent.NewControlBackend(agent.ControlDeps{Node: "node-1", NodeIP: netip.MustParseAddr("198.51.100.11"),
		Bridge: bridge, OVSRunDir: n.ovs.RunDir, Conn: n.conn, Flows: n.flows, Ports: agent.NewOVSPorts(n.vs, bridge), Cache: cache})
	if err := ctl.Serve(ctx, sock, backend); err != nil {
		t.Fatal(err)
	}
	call := func(path string, req, resp any) {
		t.Helper()
		var body []byte
		if req != nil {
			var err error
			if body, err = json.Marshal(req); err != nil {
				t.Fatal(err)
			}
		}
		out, err := ctl.Call(ctx, sock, path, body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := json.Unmarshal(out, resp); err != nil {
			t.Fatalf("%s: %v: %s", path, err, out)
		}
	}

	var st ctl.Status
	call(ctl.PathStatus, nil, &st)
	total := 0
	for _, tb := range st.Tables {
		total += tb.Flows
	}
	if st.Node != "node-1" || !st.OVSConnected || st.Pods != 2 || total != st.DesiredFlows || total == 0 {
		t.Errorf("status %+v: installed %d", st, total)
	}

	var flows ctl.FlowsResponse
	call(ctl.PathFlows, ctl.FlowsRequest{Pod: "default/b"}, &flows)
	if len(flows.Flows) != 5 {
		t.Errorf("flows of default/b: %d, want its 5", len(flows.Flows))
	}
	for _, f := range flows.Flows {
		if f.Owner != "pod default/b" || f.TableName == "" {
			t.Errorf("flow of default/b: %+v", f)
		}
	}

	for _, tc := range []struct {
		req  ctl.TraceRequest
		want string
	}{
		{ctl.TraceRequest{FromPod: "default/a", DstIP: b.ip.Addr(), DstPort: 80}, "delivered to pod default/b (port "},
		{ctl.TraceRequest{FromPod: "default/a", DstIP: netip.MustParseAddr("10.192.1.5"), Proto: "udp", DstPort: 53},
			"sent to node node-2 through tun0"},
		{ctl.TraceRequest{FromPod: "default/a", DstIP: netip.MustParseAddr("10.96.0.10"), Proto: "icmp"}, "to the host via gw0"},
		{ctl.TraceRequest{FromPod: "default/a", SrcIP: netip.MustParseAddr("10.192.0.99"), DstIP: b.ip.Addr(), DstPort: 80},
			"dropped by spoof guard of pod default/a in table Classifier"},
	} {
		var r ctl.TraceResponse
		call(ctl.PathTrace, tc.req, &r)
		if !strings.HasPrefix(r.Summary, tc.want) {
			t.Errorf("trace %+v: %q, want %q\n%s", tc.req, r.Summary, tc.want, r.Raw)
		}
	}
}
