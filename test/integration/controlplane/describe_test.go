package controlplane

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// TestDescribeSubnet runs the real `kubectl describe subnet` against the
// status the controller writes: a pool summary, then one line per address
// (node, namespace/pod, container, interface), the node's own address
// marked as such — not the "Used I Ps:" list of run-together fields.
func TestDescribeSubnet(t *testing.T) {
	kubectl := kubectlPath(t)
	e := setup(t)
	ctx := context.Background()
	e.runController(t, controllerConfig())

	alloc := ipam.New(e.c, ipam.Options{DefaultSubnet: "defaultnet"})
	eventually(t, 60*time.Second, func() string {
		_, err := alloc.Allocate(ctx, ipam.Request{Node: "kf-node-1", ContainerID: v1alpha1.NodeAddressContainerIDPrefix + "kf-node-1", Interface: "gw0"})
		return errString(err) // until the controller has created defaultnet
	})
	for i, id := range []string{"1a2b3c4d5e6f7a8b9c0d1e2f", "ffeeddccbbaa998877665544"} {
		if _, err := alloc.Allocate(ctx, ipam.Request{Node: "kf-node-1", Namespace: "default", Pod: fmt.Sprint("nginx-", i),
			ContainerID: id, Interface: "eth0"}); err != nil {
			t.Fatal(err)
		}
	}

	var out string
	eventually(t, 30*time.Second, func() string {
		b, err := exec.Command(kubectl, "--kubeconfig", e.srv.Kubeconfig, "describe", "subnet", "defaultnet").CombinedOutput()
		out = string(b)
		if err != nil {
			return fmt.Sprintf("kubectl describe: %v\n%s", err, out)
		}
		if !strings.Contains(out, "3 of 65533 addresses used") {
			return "status not written yet:\n" + out
		}
		return ""
	})
	t.Logf("kubectl describe subnet defaultnet:\n%s", out)
	for _, want := range []string{
		`(?m)^\s+Pool Status:\s+3 of 65533 addresses used \(2 pods, 1 node address\), 65530 available$`,
		`(?m)^\s+Used Pool:$`,
		`(?m)^\s+10\.192\.\d+\.\d+\s+kf-node-1\s+\(node address\)\s+-\s+gw0$`,
		`(?m)^\s+10\.192\.\d+\.\d+\s+kf-node-1\s+default/nginx-0\s+container 1a2b3c4d5e6f\s+eth0$`,
		`(?m)^\s+10\.192\.\d+\.\d+\s+kf-node-1\s+default/nginx-1\s+container ffeeddccbbaa\s+eth0$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("describe output lacks %s", want)
		}
	}
	if strings.Contains(out, "Used I Ps") {
		t.Error(`describe output still has the "Used I Ps" list`)
	}
}

// kubectlPath returns the kubectl next to the test's kube-apiserver.
func kubectlPath(t *testing.T) string {
	t.Helper()
	dir, err := apiserver.BinDir()
	if err != nil {
		apiserver.SkipOrFail(t, err)
	}
	p := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(p); err != nil {
		apiserver.SkipOrFail(t, fmt.Errorf("%w: no kubectl in %s", apiserver.ErrNoBinaries, dir))
	}
	return p
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
