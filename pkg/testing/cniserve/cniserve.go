// Package cniserve runs the agent's CNI server (pkg/cni/server) for a test
// until the test ends.
package cniserve

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/cni/server"
)

// Serve listens on opts.SocketPath (a socket in a test directory when
// empty) with h, serves until the test ends, and returns the socket's path.
// A server error at shutdown fails the test.
func Serve(t testing.TB, h server.Handler, opts server.Options) string {
	t.Helper()
	if opts.SocketPath == "" {
		opts.SocketPath = filepath.Join(t.TempDir(), "cni.sock")
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 5 * time.Second
	}
	srv := server.New(h, opts)
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
	return opts.SocketPath
}
