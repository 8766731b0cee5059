package datapath

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/cni/server"
	"github.com/kubefay/kubefay/pkg/testing/cnibin"
)

// cniBinaries returns a directory holding the image's CNI binaries (cnibin.Image):
// $KUBEFAY_CNI_BIN when set (hack/uml builds them on the host: the guest has
// no Go toolchain), else a directory of the test's they are built into.
func cniBinaries(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("KUBEFAY_CNI_BIN"); dir != "" {
		return dir
	}
	dir := t.TempDir()
	if err := cnibin.Build(dir, cnibin.Image...); err != nil {
		t.Fatal(err)
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
