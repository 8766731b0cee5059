// Package cni_test runs the real kubefay-cni binary the way containerd does
// (environment + stdin, or through libcni with a conflist) against the
// agent-side server of pkg/cni/server with a test handler that plumbs real
// veths with pkg/agent/podif into throw-away network namespaces.
package cni_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
	"github.com/kubefay/kubefay/pkg/cni/server"
	"github.com/kubefay/kubefay/pkg/testing/cnibin"
	"github.com/kubefay/kubefay/pkg/testing/cniserve"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// pluginDir builds kubefay-cni once per test binary run and returns the
// directory holding it (the CNI_PATH).
func pluginDir(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "kfcnibin"); buildErr == nil {
			buildErr = cnibin.Build(binDir, "./cmd/kubefay-cni")
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		// The agent logs every request; keep quiet unless -v.
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// env is one test's world: a host namespace, an agent serving on a socket.
type env struct {
	t      testing.TB
	host   *podiftest.NetNS
	agent  *testAgent
	socket string
	bin    string
}

func newEnv(t testing.TB, prefix string) *env {
	t.Helper()
	podiftest.Require(t)
	e := &env{t: t, host: podiftest.NewNetNS(t, "kfh")}
	e.bin = pluginDir(t)
	dir, err := os.MkdirTemp("", "kfcni")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e.socket = filepath.Join(dir, "cni.sock")
	e.agent = newTestAgent(e.host.Path, prefix)
	cniserve.Serve(t, e.agent, server.Options{SocketPath: e.socket, MaxConcurrent: 4})
	return e
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// invocation is one exec of the plugin, as a runtime does it.
type invocation struct {
	command, containerID, netns, ifName, args string
	stdin                                     string
}

// run executes the binary; it returns stdout and the exit code.
func (e *env) run(inv invocation) ([]byte, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, "kubefay-cni"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CNI_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"CNI_COMMAND="+inv.command, "CNI_CONTAINERID="+inv.containerID, "CNI_NETNS="+inv.netns,
		"CNI_IFNAME="+inv.ifName, "CNI_ARGS="+inv.args, "CNI_PATH="+e.bin)
	cmd.Stdin = strings.NewReader(inv.stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("exec kubefay-cni: %v", err)
	}
	if stderr.Len() > 0 && code != 0 {
		e.t.Logf("kubefay-cni %s stderr: %s", inv.command, stderr.String())
	}
	return stdout.Bytes(), code
}

// cniError decodes the CNI error JSON a failed plugin printed.
func cniError(t testing.TB, stdout []byte) *types.Error {
	t.Helper()
	var e types.Error
	if err := json.Unmarshal(stdout, &e); err != nil {
		t.Fatalf("stdout is not CNI error JSON: %v\n%s", err, stdout)
	}
	return &e
}

func k8sArgs(ns, name, id string) string {
	return "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + ns + ";K8S_POD_NAME=" + name +
		";K8S_POD_INFRA_CONTAINER_ID=" + id + ";K8S_POD_UID=uid-" + id[:8]
}

// podLink returns ifName in the pod namespace, or nil if absent.
func podLink(t testing.TB, ns *podiftest.NetNS, ifName string) (netlink.Link, []netlink.Addr) {
	t.Helper()
	h, err := netns.GetFromPath(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	l, err := nh.LinkByName(ifName)
	if err != nil {
		return nil, nil
	}
	addrs, err := nh.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	return l, addrs
}

// hostLinkExists reports whether the host namespace has name.
func (e *env) hostLinkExists(name string) bool {
	h, err := netns.GetFromPath(e.host.Path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	nh, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		e.t.Fatal(err)
	}
	defer nh.Close()
	_, err = nh.LinkByName(name)
	return err == nil
}
