package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/cni/client"
)

// fakeHandler delegates to optional funcs; unset ones succeed.
type fakeHandler struct {
	add    func(context.Context, *api.Request) (*current.Result, error)
	del    func(context.Context, *api.Request) error
	gc     func(context.Context, *api.Request, []types.GCAttachment) error
	status func(context.Context, *api.Request) error
}

func (f *fakeHandler) Add(ctx context.Context, r *api.Request) (*current.Result, error) {
	if f.add != nil {
		return f.add(ctx, r)
	}
	return &current.Result{}, nil
}

func (f *fakeHandler) Del(ctx context.Context, r *api.Request) error {
	if f.del != nil {
		return f.del(ctx, r)
	}
	return nil
}

func (f *fakeHandler) Check(context.Context, *api.Request) error { return nil }

func (f *fakeHandler) Status(ctx context.Context, r *api.Request) error {
	if f.status != nil {
		return f.status(ctx, r)
	}
	return nil
}

func (f *fakeHandler) GC(ctx context.Context, r *api.Request, v []types.GCAttachment) error {
	if f.gc != nil {
		return f.gc(ctx, r, v)
	}
	return nil
}

func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "kfsrv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startServer runs a server until the test ends; stop() ends it earlier.
func startServer(t *testing.T, h Handler, opts Options) (s *Server, stop func()) {
	t.Helper()
	if opts.SocketPath == "" {
		opts.SocketPath = filepath.Join(shortDir(t), "run", "cni.sock")
	}
	s = New(h, opts)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return s, stop
}

func request(cmd api.Command, id string) *api.Request {
	return &api.Request{Command: cmd, ContainerID: id, IfName: "eth0", CNIVersion: "1.1.0",
		Pod: api.PodArgs{Namespace: "ns", Name: "p"}, NetConf: json.RawMessage(`{"name":"kubefay"}`)}
}

type coded struct{}

func (coded) Error() string          { return "coded" }
func (coded) CNIError() *types.Error { return types.NewError(51, "limited", "only v4") }

func TestDispatchAndErrorConversion(t *testing.T) {
	res := &current.Result{IPs: []*current.IPConfig{{Address: net.IPNet{IP: net.IPv4(10, 192, 1, 5), Mask: net.CIDRMask(24, 32)}}}}
	var gotValid []types.GCAttachment
	h := &fakeHandler{
		add: func(_ context.Context, r *api.Request) (*current.Result, error) {
			switch r.ContainerID {
			case "ok":
				return res, nil
			case "typed":
				return nil, types.NewError(types.ErrUnknownContainer, "no such pod", "ns/p")
			case "wrapped":
				return nil, fmt.Errorf("ipam: %w", coded{})
			case "plain":
				return nil, errors.New("ovs down")
			case "deadline":
				return nil, fmt.Errorf("waiting: %w", context.DeadlineExceeded)
			case "nil":
				return nil, nil
			case "panic":
				panic("oops")
			}
			return nil, nil
		},
		gc: func(_ context.Context, _ *api.Request, v []types.GCAttachment) error {
			gotValid = v
			return nil
		},
	}
	s, _ := startServer(t, h, Options{})
	c := client.New(s.SocketPath())
	ctx := context.Background()

	raw, e := c.Do(ctx, request(api.CommandAdd, "ok"), 5*time.Second)
	if e != nil {
		t.Fatalf("ADD ok: %v", e)
	}
	got, err := current.NewResult(raw)
	if err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	if r := got.(*current.Result); r.CNIVersion != "1.1.0" || len(r.IPs) != 1 || r.IPs[0].Address.String() != "10.192.1.5/24" {
		t.Errorf("result %s", raw)
	}

	tests := []struct {
		id       string
		wantCode uint
		wantMsg  string
	}{
		{"typed", types.ErrUnknownContainer, "no such pod"},
		{"wrapped", 51, "limited"},
		{"plain", types.ErrInternal, "ovs down"},
		{"deadline", types.ErrTryAgainLater, ""},
		{"nil", types.ErrInternal, "no result"},
		{"panic", types.ErrInternal, "oops"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, e := c.Do(ctx, request(api.CommandAdd, tt.id), 5*time.Second)
			if e == nil || e.Code != tt.wantCode || !strings.Contains(e.Msg, tt.wantMsg) {
				t.Errorf("got %#v, want code %d msg ~%q", e, tt.wantCode, tt.wantMsg)
			}
		})
	}

	gcReq := request(api.CommandGC, "")
	gcReq.NetConf = json.RawMessage(`{"name":"kubefay","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"},{"containerID":"b","ifname":"eth1"}]}`)
	if _, e := c.Do(ctx, gcReq, 5*time.Second); e != nil {
		t.Fatalf("GC: %v", e)
	}
	if len(gotValid) != 2 || gotValid[1] != (types.GCAttachment{ContainerID: "b", IfName: "eth1"}) {
		t.Errorf("valid attachments %+v", gotValid)
	}
	gcReq.NetConf = json.RawMessage(`{"name":"kubefay","cni.dev/valid-attachments":{"x":1}}`)
	if _, e := c.Do(ctx, gcReq, 5*time.Second); e == nil || e.Code != types.ErrDecodingFailure {
		t.Errorf("bad GC attachments: %v", e)
	}
	for _, cmd := range []api.Command{api.CommandDel, api.CommandCheck, api.CommandStatus} {
		if _, e := c.Do(ctx, request(cmd, "x"), 5*time.Second); e != nil {
			t.Errorf("%s: %v", cmd, e)
		}
	}
}

// rawPost sends body to the server without the client package.
func rawPost(t *testing.T, socket, method, body string) (int, api.Response) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}}
	req, _ := http.NewRequest(method, "http://agent"+api.Path, strings.NewReader(body))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out api.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("response not JSON: %v", err)
	}
	return resp.StatusCode, out
}

func TestMalformedRequests(t *testing.T) {
	s, _ := startServer(t, &fakeHandler{}, Options{})
	tests := []struct {
		name, method, body string
		status             int
		code               uint
	}{
		{"not json", http.MethodPost, `{"command":`, 400, types.ErrDecodingFailure},
		{"unknown command", http.MethodPost, `{"command":"VERSION"}`, 400, types.ErrInvalidEnvironmentVariables},
		{"GET", http.MethodGet, ``, 405, types.ErrInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, resp := rawPost(t, s.SocketPath(), tt.method, tt.body)
			if status != tt.status || resp.Error == nil || resp.Error.Code != tt.code {
				t.Errorf("HTTP %d %+v, want %d code %d", status, resp.Error, tt.status, tt.code)
			}
		})
	}
}

func TestSocketLifecycle(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "sub", "cni.sock")

	// A stale socket (its server died) is replaced.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()

	_, stop := startServer(t, &fakeHandler{}, Options{SocketPath: path})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want socket 0600", fi.Mode())
	}
	if _, e := client.New(path).Do(context.Background(), request(api.CommandDel, "x"), 5*time.Second); e != nil {
		t.Errorf("DEL after stale replacement: %v", e)
	}

	// A live socket is not stolen.
	if err := New(&fakeHandler{}, Options{SocketPath: path}).Listen(); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Errorf("second Listen on a live socket: %v", err)
	}

	stop()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket not removed at shutdown: %v", err)
	}
	if _, e := client.New(path).Do(context.Background(), request(api.CommandDel, "x"), time.Second); e == nil || e.Code != types.ErrTryAgainLater {
		t.Errorf("after shutdown: %v", e)
	}

	// Something that is not a socket is left alone.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := New(&fakeHandler{}, Options{SocketPath: file}).Listen(); err == nil {
		t.Error("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Error("regular file modified")
	}
}

func TestBoundedConcurrencyAndPerContainerSerialisation(t *testing.T) {
	var cur, peak atomic.Int32
	perID := sync.Map{}
	var overlap atomic.Bool
	h := &fakeHandler{del: func(_ context.Context, r *api.Request) error {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		c, _ := perID.LoadOrStore(r.ContainerID, new(atomic.Int32))
		if c.(*atomic.Int32).Add(1) > 1 {
			overlap.Store(true)
		}
		time.Sleep(20 * time.Millisecond)
		c.(*atomic.Int32).Add(-1)
		return nil
	}}
	s, _ := startServer(t, h, Options{MaxConcurrent: 3})
	c := client.New(s.SocketPath())
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("c%d", i%4) // 4 containers, 3 requests each
			if _, e := c.Do(context.Background(), request(api.CommandDel, id), 10*time.Second); e != nil {
				t.Errorf("DEL %s: %v", id, e)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..3 with MaxConcurrent 3", p)
	}
	if overlap.Load() {
		t.Error("two requests for the same container ran at once")
	}
}

func TestClientGoneCancelsHandler(t *testing.T) {
	cancelled := make(chan struct{})
	h := &fakeHandler{add: func(ctx context.Context, _ *api.Request) (*current.Result, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	}}
	s, _ := startServer(t, h, Options{})
	_, e := client.New(s.SocketPath()).Do(context.Background(), request(api.CommandAdd, "slow"), 100*time.Millisecond)
	if e == nil || e.Code != types.ErrTryAgainLater {
		t.Fatalf("client error %v, want code 11", e)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("handler context not cancelled after the client gave up")
	}
}

func TestGracefulShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	h := &fakeHandler{
		add: func(ctx context.Context, _ *api.Request) (*current.Result, error) {
			started <- struct{}{}
			<-release
			return &current.Result{}, nil
		},
		del: func(ctx context.Context, _ *api.Request) error {
			started <- struct{}{}
			<-ctx.Done() // never finishes on its own
			return ctx.Err()
		},
	}
	t.Run("in-flight request completes", func(t *testing.T) {
		s, stop := startServer(t, h, Options{ShutdownTimeout: 10 * time.Second})
		errc := make(chan *types.Error, 1)
		go func() {
			_, e := client.New(s.SocketPath()).Do(context.Background(), request(api.CommandAdd, "a"), 10*time.Second)
			errc <- e
		}()
		<-started
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		time.Sleep(50 * time.Millisecond) // let Shutdown close the listener
		close(release)
		if e := <-errc; e != nil {
			t.Errorf("in-flight ADD failed during shutdown: %v", e)
		}
		<-stopped
	})
	t.Run("grace period over cancels handlers", func(t *testing.T) {
		s, stop := startServer(t, h, Options{ShutdownTimeout: 100 * time.Millisecond})
		errc := make(chan *types.Error, 1)
		go func() {
			_, e := client.New(s.SocketPath()).Do(context.Background(), request(api.CommandDel, "b"), 10*time.Second)
			errc <- e
		}()
		<-started
		stop()
		if e := <-errc; e == nil || e.Code != types.ErrTryAgainLater {
			t.Errorf("DEL cut by shutdown: %v, want code 11", e)
		}
	})
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := &fakeHandler{status: func(context.Context, *api.Request) error {
		return types.NewError(types.ErrPluginNotAvailable, "not ready", "")
	}}
	s, _ := startServer(t, h, Options{Registerer: reg})
	c := client.New(s.SocketPath())
	for range 3 {
		c.Do(context.Background(), request(api.CommandAdd, "m"), 5*time.Second)
	}
	c.Do(context.Background(), request(api.CommandStatus, ""), 5*time.Second)

	// A second server on the same registry shares the collectors.
	New(h, Options{Registerer: reg, SocketPath: filepath.Join(shortDir(t), "x.sock")})

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts, errs := map[string]float64{}, map[string]float64{}
	var histCount uint64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "kubefay_cni_requests_total":
				counts[label(m, "command")+"/"+label(m, "result")] = m.GetCounter().GetValue()
			case "kubefay_cni_errors_total":
				errs[label(m, "command")+"/"+label(m, "code")] = m.GetCounter().GetValue()
			case "kubefay_cni_request_duration_seconds":
				histCount += m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{"ADD/success": 3, "STATUS/error": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if len(errs) != 1 || errs["STATUS/50"] != 1 { // types.ErrPluginNotAvailable
		t.Errorf("errors by code %v, want STATUS/50: 1", errs)
	}
	if histCount != 4 {
		t.Errorf("histogram samples %d, want 4", histCount)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestOnlyTheServersUserMayCall: a process of another user is refused even
// when the socket's mode lets it connect (here 0666); root is served.
func TestOnlyTheServersUserMayCall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	for _, tool := range []string{"setpriv", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s missing", tool)
			}
			t.Skip(tool + " missing")
		}
	}
	dir := shortDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := startServer(t, &fakeHandler{}, Options{SocketPath: filepath.Join(dir, "cni.sock"), SocketMode: 0o666})
	call := func(asNobody bool) (string, error) {
		args := []string{"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "--unix-socket", s.SocketPath(),
			"-X", "POST", "-d", `{"command":"STATUS"}`, "http://kubefay" + api.Path}
		if asNobody {
			args = append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}, args...)
		}
		out, err := exec.Command(args[0], args[1:]...).Output()
		return string(out), err
	}
	if code, err := call(false); err != nil || code != "200" {
		t.Fatalf("root: HTTP %q, %v; want 200", code, err)
	}
	if code, err := call(true); err == nil && code == "200" {
		t.Fatalf("uid 65534 was served (HTTP %s)", code)
	}
}
