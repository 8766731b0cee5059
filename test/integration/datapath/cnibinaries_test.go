package datapath

import (
	"os"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/cni/server"
	"github.com/kubefay/kubefay/pkg/testing/cnibin"
	"github.com/kubefay/kubefay/pkg/testing/cniserve"
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
	return cniserve.Serve(t, h, server.Options{})
}
