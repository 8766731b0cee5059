package plugin

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/kubefay/kubefay/pkg/cni/api"
)

// fakeAgent is an HTTP server on a unix socket that records requests and
// answers with respond.
type fakeAgent struct {
	socket string
	mu     sync.Mutex
	reqs   []api.Request
}

// shortDir returns a short temporary directory (unix socket paths are
// limited to 107 bytes, t.TempDir() paths can be longer).
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kfcni")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func startFakeAgent(t *testing.T, respond http.HandlerFunc) *fakeAgent {
	t.Helper()
	fa := &fakeAgent{socket: filepath.Join(shortDir(t), "agent.sock")}
	l, err := net.Listen("unix", fa.socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.Request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("fake agent: bad request: %v", err)
		}
		fa.mu.Lock()
		fa.reqs = append(fa.reqs, req)
		fa.mu.Unlock()
		respond(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return fa
}

func (fa *fakeAgent) requests() []api.Request {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	return append([]api.Request(nil), fa.reqs...)
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

const addResult = `{"cniVersion":"1.1.0",
 "interfaces":[{"name":"kf0123456789ab","mac":"aa:bb:cc:dd:ee:01"},{"name":"eth0","mac":"0a:58:0a:c0:01:05","sandbox":"/var/run/netns/cni-1"}],
 "ips":[{"address":"10.192.1.5/24","gateway":"10.192.1.1","interface":1}],
 "routes":[{"dst":"0.0.0.0/0","gw":"10.192.1.1"}]}`

func netconf(version, socket string, extra string) []byte {
	s := `{"cniVersion":"` + version + `","name":"kubefay","type":"kubefay-cni","agentSocket":"` + socket + `"`
	if extra != "" {
		s += "," + extra
	}
	return []byte(s + "}")
}

func cmdArgs(stdin []byte) *skel.CmdArgs {
	return &skel.CmdArgs{
		ContainerID: "c0ffee1234567890",
		Netns:       "/var/run/netns/cni-1",
		IfName:      "eth0",
		Args:        "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee1234567890;K8S_POD_UID=u-1",
		Path:        "/opt/cni/bin",
		StdinData:   stdin,
	}
}

func TestAddForwardsAndConvertsResult(t *testing.T) {
	fa := startFakeAgent(t, answer(http.StatusOK, `{"result":`+addResult+`}`))
	for _, v := range []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"} {
		t.Run(v, func(t *testing.T) {
			var out bytes.Buffer
			p := &Plugin{Stdout: &out}
			stdin := netconf(v, fa.socket, `"runtimeConfig":{"portMappings":[]}`)
			if err := p.Add(cmdArgs(stdin)); err != nil {
				t.Fatalf("Add: %v", err)
			}
			var printed map[string]any
			if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			if printed["cniVersion"] != v {
				t.Errorf("printed cniVersion %v, want %s", printed["cniVersion"], v)
			}
			ips, _ := printed["ips"].([]any)
			if len(ips) != 1 || !strings.Contains(out.String(), "10.192.1.5/24") {
				t.Errorf("result lost the IP: %s", out.String())
			}
			reqs := fa.requests()
			got := reqs[len(reqs)-1]
			want := api.PodArgs{Namespace: "default", Name: "web-0", UID: "u-1", InfraContainerID: "c0ffee1234567890"}
			if got.Command != api.CommandAdd || got.ContainerID != "c0ffee1234567890" || got.Netns != "/var/run/netns/cni-1" ||
				got.IfName != "eth0" || got.Pod != want || got.CNIVersion != v {
				t.Errorf("forwarded request %+v", got)
			}
			if !bytes.Equal(got.NetConf, stdin) {
				t.Errorf("netconf not forwarded verbatim:\n got %s\nwant %s", got.NetConf, stdin)
			}
		})
	}
}

func TestCommandsWithoutOutput(t *testing.T) {
	fa := startFakeAgent(t, answer(http.StatusOK, `{}`))
	p := &Plugin{Stdout: &bytes.Buffer{}}
	stdin := netconf("1.1.0", fa.socket, `"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]`)
	for _, tc := range []struct {
		cmd api.Command
		run func(*skel.CmdArgs) error
	}{{api.CommandDel, p.Del}, {api.CommandCheck, p.Check}, {api.CommandStatus, p.Status}, {api.CommandGC, p.GC}} {
		args := cmdArgs(stdin)
		if tc.cmd == api.CommandDel {
			args.Netns = "" // containerd's later DELs
		}
		if err := tc.run(args); err != nil {
			t.Errorf("%s: %v", tc.cmd, err)
		}
		reqs := fa.requests()
		if got := reqs[len(reqs)-1]; got.Command != tc.cmd {
			t.Errorf("forwarded %s, want %s", got.Command, tc.cmd)
		}
	}
	if out := p.Stdout.(*bytes.Buffer).String(); out != "" {
		t.Errorf("non-ADD commands printed %q", out)
	}
}

func TestErrors(t *testing.T) {
	dir := shortDir(t)
	missing := filepath.Join(dir, "missing.sock")
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, nobody listens: an agent that died

	rejecting := startFakeAgent(t, answer(http.StatusInternalServerError,
		`{"error":{"code":7,"msg":"pod has no IP pool","details":"namespace default"}}`))
	slow := startFakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	garbage := startFakeAgent(t, answer(http.StatusOK, `<html>not json</html>`))
	bare500 := startFakeAgent(t, answer(http.StatusInternalServerError, `{}`))
	noResult := startFakeAgent(t, answer(http.StatusOK, `{}`))
	badResult := startFakeAgent(t, answer(http.StatusOK, `{"result":{"cniVersion":"0.2.0","ip4":{}}}`))
	v6Result := startFakeAgent(t, answer(http.StatusOK,
		`{"result":{"cniVersion":"1.1.0","ips":[{"address":"fd00::5/64"},{"address":"fd01::5/64"}]}}`))
	hangup := startFakeAgent(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})

	tests := []struct {
		name      string
		cmd       string
		stdin     []byte
		args      string
		wantCode  uint
		wantInMsg string
	}{
		{name: "socket missing on ADD", cmd: "ADD", stdin: netconf("1.1.0", missing, ""), wantCode: 11, wantInMsg: missing},
		{name: "socket missing on DEL", cmd: "DEL", stdin: netconf("1.1.0", missing, ""), wantCode: 11, wantInMsg: missing},
		{name: "socket missing on STATUS", cmd: "STATUS", stdin: netconf("1.1.0", missing, ""), wantCode: 50, wantInMsg: missing},
		{name: "stale socket", cmd: "ADD", stdin: netconf("1.1.0", stale, ""), wantCode: 11, wantInMsg: stale},
		{name: "timeout", cmd: "ADD", stdin: netconf("1.1.0", slow.socket, `"timeouts":{"add":"150ms"}`), wantCode: 11, wantInMsg: "within 150ms"},
		{name: "timeout on DEL", cmd: "DEL", stdin: netconf("1.1.0", slow.socket, `"timeouts":{"del":0.1}`), wantCode: 11, wantInMsg: "did not answer CNI DEL"},
		{name: "agent hangs up", cmd: "ADD", stdin: netconf("1.1.0", hangup.socket, ""), wantCode: 11, wantInMsg: "failed during CNI ADD"},
		{name: "agent rejects", cmd: "ADD", stdin: netconf("1.1.0", rejecting.socket, ""), wantCode: 7, wantInMsg: "pod has no IP pool"},
		{name: "agent rejects DEL", cmd: "DEL", stdin: netconf("1.1.0", rejecting.socket, ""), wantCode: 7, wantInMsg: "pod has no IP pool"},
		{name: "not the protocol", cmd: "ADD", stdin: netconf("1.1.0", garbage.socket, ""), wantCode: 999, wantInMsg: "malformed answer"},
		{name: "HTTP error without CNI error", cmd: "DEL", stdin: netconf("1.1.0", bare500.socket, ""), wantCode: 999, wantInMsg: "HTTP 500"},
		{name: "ADD without result", cmd: "ADD", stdin: netconf("1.1.0", noResult.socket, ""), wantCode: 999, wantInMsg: "without a result"},
		{name: "result of an old version", cmd: "ADD", stdin: netconf("1.1.0", badResult.socket, ""), wantCode: 999, wantInMsg: "invalid CNI result"},
		{name: "two IPv6 addresses down to 0.3.1", cmd: "ADD", stdin: netconf("0.3.1", v6Result.socket, ""), wantCode: 0},
		{name: "stdin not JSON", cmd: "ADD", stdin: []byte(`{"cniVersion":`), wantCode: 6},
		{name: "stdin without name", cmd: "ADD", stdin: []byte(`{"cniVersion":"1.1.0"}`), wantCode: 7},
		{name: "bad timeouts", cmd: "ADD", stdin: netconf("1.1.0", missing, `"timeouts":{"add":"later"}`), wantCode: 7},
		{name: "bad CNI_ARGS", cmd: "ADD", stdin: netconf("1.1.0", missing, ""), args: "K8S_POD_NAME", wantCode: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &Plugin{Stdout: &out}
			args := cmdArgs(tt.stdin)
			if tt.args != "" {
				args.Args = tt.args
			}
			run := map[string]func(*skel.CmdArgs) error{"ADD": p.Add, "DEL": p.Del, "STATUS": p.Status}[tt.cmd]
			err := run(args)
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e, ok := err.(*types.Error)
			if !ok {
				t.Fatalf("got %T %v, want *types.Error", err, err)
			}
			if e.Code != tt.wantCode {
				t.Errorf("code %d, want %d (%s; %s)", e.Code, tt.wantCode, e.Msg, e.Details)
			}
			if !strings.Contains(e.Msg, tt.wantInMsg) {
				t.Errorf("msg %q does not contain %q", e.Msg, tt.wantInMsg)
			}
			if out.Len() != 0 {
				t.Errorf("printed a result on error: %s", out.String())
			}
		})
	}
}

func TestAgentDetailsPassThrough(t *testing.T) {
	fa := startFakeAgent(t, answer(http.StatusInternalServerError,
		`{"error":{"code":11,"msg":"IPAM not synced yet","details":"retry in 1s"}}`))
	err := (&Plugin{Stdout: &bytes.Buffer{}}).Add(cmdArgs(netconf("1.1.0", fa.socket, "")))
	want := types.NewError(11, "IPAM not synced yet", "retry in 1s")
	if e, ok := err.(*types.Error); !ok || *e != *want {
		t.Fatalf("got %#v, want %#v", err, want)
	}
}

func TestSupportedVersions(t *testing.T) {
	got := strings.Join(SupportedVersions.SupportedVersions(), ",")
	if got != "0.3.0,0.3.1,0.4.0,1.0.0,1.1.0" {
		t.Errorf("supported versions %s", got)
	}
	if !strings.Contains(About(), "kubefay-cni") {
		t.Errorf("about %q", About())
	}
	_ = current.ImplementedSpecVersion
}
