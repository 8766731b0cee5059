package scale

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// EnvKwok names the kwok binary; the default is where hack/kwok/install.sh
// caches it, then $PATH.
const EnvKwok = "KUBEFAY_KWOK"

// EnvController names a built kubefay-controller; empty builds one.
const EnvController = "KUBEFAY_CONTROLLER_BIN"

// cluster is the API server, kwok and the kubefay-controller process.
type cluster struct {
	srv    *apiserver.Server
	cfg    *rest.Config
	c      client.Client
	dir    string
	root   string
	kwok   *proc
	ctrl   *proc
	ctrlN  int
	health string // the controller's /readyz URL
}

// missing skips t outside CI (a tool this test needs is absent), fails it
// under CI=true.
func missing(t testing.TB, format string, a ...any) {
	t.Helper()
	if strings.EqualFold(os.Getenv("CI"), "true") {
		t.Fatalf(format, a...)
	}
	t.Skipf("skipping: "+format, a...)
}

func kwokBinary() (string, error) {
	if p := os.Getenv(EnvKwok); p != "" {
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "kubefay", "kwok", "v0.8.0", "kwok")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath("kwok")
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	kwok, err := kwokBinary()
	if err != nil {
		missing(t, "no kwok binary (%v): build it with hack/kwok/install.sh or set %s", err, EnvKwok)
	}
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// etcd and the API server keep up with 50,000 pods: raise the
	// in-flight limits a little above the defaults (400/200).
	srv := apiserver.Start(t, apiserver.Options{ExtraAPIServerFlags: []string{
		"--max-requests-inflight=800", "--max-mutating-requests-inflight=400"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.InstallCRDs(ctx, filepath.Join(root, apiserver.CRDDir)); err != nil {
		t.Fatal(err)
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Config()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{srv: srv, cfg: cfg, c: c, dir: srv.Dir, root: root}
	cl.kwok = startProc(t, srv.Dir, "kwok", kwok, "--kubeconfig="+srv.Kubeconfig, "--manage-all-nodes=true",
		"--config="+filepath.Join(root, "test", "integration", "scale", "testdata", "kwok-stages.yaml"))
	return cl
}

// etcdDBSize is the size of etcd's database file.
func (c *cluster) etcdDBSize() int64 {
	fi, err := os.Stat(filepath.Join(c.dir, "etcd", "member", "snap", "db"))
	if err != nil {
		return -1
	}
	return fi.Size()
}

// controllerBinary builds kubefay-controller unless EnvController names one.
func (c *cluster) controllerBinary(t *testing.T) string {
	if p := os.Getenv(EnvController); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "kubefay-controller")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/kubefay-controller")
	cmd.Dir = c.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building kubefay-controller: %v\n%s", err, b)
	}
	return out
}

// startController runs the kubefay-controller binary (one replica, no
// leader election: a restart must not wait for a lease) and returns when
// its /readyz answers.
func (c *cluster) startController(t *testing.T, bin string) time.Duration {
	t.Helper()
	if c.health == "" {
		ports := freePorts(t, 2)
		c.health = fmt.Sprintf("127.0.0.1:%d", ports[0])
		cfgFile := filepath.Join(c.dir, "controller.yaml")
		yaml := fmt.Sprintf("defaultSubnet: {name: defaultnet, cidr: 10.192.0.0/16}\nmetricsAddress: 127.0.0.1:%d\nhealthAddress: %s\n", ports[1], c.health)
		if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	c.ctrlN++
	c.ctrl = startProc(t, c.dir, fmt.Sprintf("kubefay-controller-%d", c.ctrlN), bin,
		"--config="+filepath.Join(c.dir, "controller.yaml"), "--kubeconfig="+c.srv.Kubeconfig, "--leader-elect=false")
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < 2*time.Minute {
		if c.ctrl.exited() {
			t.Fatalf("kubefay-controller exited: %v\n%s", c.ctrl.err, c.ctrl.logTail(3000))
		}
		if resp, err := hc.Get("http://" + c.health + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("kubefay-controller not ready after 2m\n%s", c.ctrl.logTail(3000))
	return 0
}

// killController kills the controller as a crash would.
func (c *cluster) killController() { c.ctrl.stop(syscall.SIGKILL) }

func freePorts(t testing.TB, n int) []int {
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

var errTimeout = errors.New("timed out")

// poll calls cond every interval until it returns true, or ctx ends.
func poll(ctx context.Context, interval time.Duration, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return errTimeout
		case <-time.After(interval):
		}
	}
	return nil
}
