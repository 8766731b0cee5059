// Package cnibin builds CNI plugin binaries for tests, statically (CGO off)
// as the image does.
package cnibin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Image are the binaries the agent image ships in /opt/cni/bin
// (build/images/build.sh): kubefay's plugin and the reference plugins from
// the module's own containernetworking/plugins version. hack/uml builds the
// same list.
var Image = []string{
	"./cmd/kubefay-cni",
	"github.com/containernetworking/plugins/plugins/main/loopback",
	"github.com/containernetworking/plugins/plugins/meta/portmap",
	"github.com/containernetworking/plugins/plugins/meta/bandwidth",
}

// Build builds pkgs (module-relative like "./cmd/kubefay-cni", or import
// paths of the module's dependencies) into dir, one binary each.
func Build(dir string, pkgs ...string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	gomod, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		return fmt.Errorf("finding the module root (go env GOMOD): %v", err)
	}
	cmd := exec.Command(goBin, append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}
