package apiserver

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Options tune Run.
type Options struct {
	// BinDir holds etcd and kube-apiserver; empty means BinDir().
	BinDir string
	// Dir is where state, certificates and logs go; empty means a new
	// temporary directory, removed by Stop.
	Dir string
	// StartTimeout bounds the wait for both to become ready (default 90 s:
	// a shared 2-core machine can be slow).
	StartTimeout time.Duration
	// ExtraAPIServerFlags are appended to kube-apiserver's command line.
	ExtraAPIServerFlags []string
}

// Server is a running etcd + kube-apiserver pair.
type Server struct {
	// URL of the API server, https://127.0.0.1:<port>.
	URL string
	// Dir holds state, certificates and the logs etcd.log and
	// kube-apiserver.log.
	Dir string
	// Token is a bearer token of user "admin" in group system:masters.
	Token string
	// Kubeconfig is the path of a kubeconfig file for that user.
	Kubeconfig string

	caPEM   []byte
	procs   []*process
	ownDir  bool
	stopped sync.Once
}

// Start runs a Server for test t and stops it when the test ends. It skips
// t when the binaries are missing, or fails it under CI=true.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	s, err := Run(o)
	if err != nil {
		SkipOrFail(t, err)
	}
	t.Cleanup(s.Stop)
	t.Logf("kube-apiserver at %s (logs in %s)", s.URL, s.Dir)
	return s
}

// Run starts etcd and kube-apiserver and waits until the API server is
// ready. The caller must call Stop.
func Run(o Options) (*Server, error) {
	if o.BinDir == "" {
		d, err := BinDir()
		if err != nil {
			return nil, err
		}
		o.BinDir = d
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 90 * time.Second
	}
	s := &Server{Dir: o.Dir}
	if s.Dir == "" {
		d, err := os.MkdirTemp("", "kubefay-apiserver-")
		if err != nil {
			return nil, err
		}
		s.Dir, s.ownDir = d, true
	}
	if err := s.start(o); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(o Options) error {
	deadline := time.Now().Add(o.StartTimeout)
	p, err := newPKI(s.Dir)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}
	s.caPEM = p.caPEM
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	s.Token = hex.EncodeToString(tok)
	tokens := filepath.Join(s.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(s.Token+`,admin,admin,"system:masters"`+"\n"), 0o600); err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	etcd, err := startProcess(s.Dir, "etcd", filepath.Join(o.BinDir, "etcd"),
		"--name=test", "--data-dir="+filepath.Join(s.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=test="+peerURL, "--unsafe-no-fsync", "--log-level=warn")
	if err != nil {
		return err
	}
	s.procs = append(s.procs, etcd)
	if err := waitHTTP(deadline, etcd, &http.Client{Timeout: 2 * time.Second}, etcdURL+"/health", ""); err != nil {
		return err
	}

	s.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(ports[2]),
		"--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
		"--tls-cert-file=" + p.certFile, "--tls-private-key-file=" + p.keyFile,
		"--client-ca-file=" + p.caFile, "--token-auth-file=" + tokens,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPubFile, "--service-account-signing-key-file=" + p.saKeyFile,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC", "--profiling=false", "--v=1",
	}
	args = append(args, o.ExtraAPIServerFlags...)
	api, err := startProcess(s.Dir, "kube-apiserver", filepath.Join(o.BinDir, "kube-apiserver"), args...)
	if err != nil {
		return err
	}
	s.procs = append(s.procs, api)
	if err := waitHTTP(deadline, api, s.httpClient(), s.URL+"/readyz", s.Token); err != nil {
		return err
	}
	return s.writeKubeconfig()
}

// Config returns a client configuration for the admin user. QPS limits are
// lifted: tests measure the server, not client-side throttling.
func (s *Server) Config() *rest.Config {
	return &rest.Config{
		Host:            s.URL,
		BearerToken:     s.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.caPEM},
		QPS:             -1,
		Burst:           -1,
	}
}

// Stop kills the processes (TERM, then KILL after 10 s) and removes the
// directory if Run created it. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopped.Do(func() {
		for i := len(s.procs) - 1; i >= 0; i-- {
			s.procs[i].stop()
		}
		if s.ownDir {
			_ = os.RemoveAll(s.Dir)
		}
	})
}

// Logs returns the last bytes of a component's log ("etcd",
// "kube-apiserver"), for failure messages.
func (s *Server) Logs(component string, max int) string {
	return tail(filepath.Join(s.Dir, component+".log"), max)
}

func (s *Server) httpClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.caPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func (s *Server) writeKubeconfig() error {
	s.Kubeconfig = filepath.Join(s.Dir, "admin.kubeconfig")
	ca := filepath.Join(s.Dir, "ca.crt")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: test
  context: {cluster: test, user: admin}
current-context: test
`, s.URL, ca, s.Token)
	return os.WriteFile(s.Kubeconfig, []byte(kc), 0o600)
}

// process is a child in its own process group, logging to <dir>/<name>.log.
type process struct {
	name, log string
	cmd       *exec.Cmd
	done      chan struct{}
	err       error
}

func startProcess(dir, name, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// waitHTTP polls url until it answers 200, p dies, or the deadline passes.
func waitHTTP(deadline time.Time, p *process, c *http.Client, url, token string) error {
	var last string
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s exited (%v) before becoming ready; log tail:\n%s", p.name, p.err, tail(p.log, 3000))
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s (last: %s); log tail:\n%s", p.name, url, last, tail(p.log, 3000))
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}
