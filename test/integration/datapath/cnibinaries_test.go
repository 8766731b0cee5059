package datapath

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/cni/server"
)

// cniPackages are the binaries the agent image ships in /opt/cni/bin
// (build/images/build.sh): kubefay's plugin and the reference plugins from
// the module's own containernetworking/plugins version. hack/uml builds the
// same list.
var cniPackages = []string{
	"./cmd/kubefay-cni",
	"github.com/containernetworking/plugins/plugins/main/loopback",
	"github.com/containernetworking/plugins/plugins/meta/portmap",
	"github.com/containernetworking/plugins/plugins/meta/bandwidth",
}

// cniBinaries returns a directory holding the binaries of cniPackages:
// $KUBEFAY_CNI_BIN when set (hack/uml builds them on the host: the guest has
// no Go toolchain), else a directory of the test's they are built into.
func cniBinaries(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("KUBEFAY_CNI_BIN"); dir != "" {
		return dir
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, append([]string{"build", "-o", dir + "/"}, cniPackages...)...)
	cmd.Dir = filepath.Join("..", "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(cniPackages, " "), err, out)
	}
	return dir
}

// serveCNI runs the agent's CNI server for h on a socket of its own until
// the test ends, and returns the socket's path.
func serveCNI(t *testing.T, h *agent.CNIHandler) string {
	t.Helper()
	socket := filepath.Join(t.TempDir(), "cni.sock")
	srv := server.New(h, server.Options{SocketPath: socket, ShutdownTimeout: 5 * time.Second})
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("CNI server: %v", err)
		}
	})
	return socket
}
