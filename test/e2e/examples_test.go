package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

// TestOriginalKubefayExamples: the original Kubefay README's examples work
// verbatim — build/examples/subnet.yaml (SubNet newnet 10.182.0.0/16 and
// the namespace kubefay-test annotated `subnet: newnet`), a pod there gets
// an address of newnet, a pod with the annotation `IPv4: 10.192.255.253`
// gets exactly that address — and `kubectl describe subnet` lists each used
// IP on a line with its node, namespace/pod, container ID and interface,
// a node's own address marked as such.
func TestOriginalKubefayExamples(t *testing.T) {
	e := setup(t, "examples")
	example := filepath.Join("..", "..", "build", "examples", "subnet.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := e.c.cs.CoreV1().Namespaces().Get(ctx, "kubefay-test", metav1.GetOptions{})
	createdHere := err != nil // `make lab`'s demo applies the same file
	kubectl(t, "apply", "-f", example)
	if createdHere {
		t.Cleanup(func() { kubectlNoFail(t, "delete", "-f", example, "--wait=false") })
	}

	ek := &env{t: t, c: e.c, ns: "kubefay-test", nodes: e.nodes}
	name := "example-" + utilrand.String(5)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.c.cs.CoreV1().Pods("kubefay-test").Delete(ctx, name, metav1.DeleteOptions{})
	})
	inNewnet := ek.createPods(netexecPod(name, e.nodes[1].Name))[name]
	if !inCIDR(inNewnet.Status.PodIP, "10.182.0.0/16") {
		t.Errorf("pod in kubefay-test got %s, want an address of newnet 10.182.0.0/16", inNewnet.Status.PodIP)
	}

	static := netexecPod("static", e.nodes[0].Name)
	static.Annotations = map[string]string{"IPv4": "10.192.255.253"}
	if got := e.createPods(static)["static"].Status.PodIP; got != "10.192.255.253" {
		t.Errorf("pod annotated IPv4: 10.192.255.253 got %s", got)
	}

	// describe lists up to 256 used IPs, one line each (node, namespace/pod,
	// container, interface): newnet, nearly empty, shows ours for sure;
	// defaultnet shows each node's own address (gw0) marked as such unless
	// it is too full to list them all.
	podLine := regexp.MustCompile(regexp.QuoteMeta(inNewnet.Status.PodIP+" "+e.nodes[1].Name+" kubefay-test/"+name+" container ") + `[0-9a-f]+ eth0`)
	eventually(t, time.Minute, "describe subnet newnet lists the pod's address", func(context.Context) (bool, error) {
		return podLine.MatchString(squeeze(kubectl(t, "describe", "subnet", "newnet"))), nil
	})
	nodeLine := regexp.MustCompile(`\d+\.\d+\.\d+\.\d+ ` + regexp.QuoteMeta(e.nodes[0].Name+" (node address) - gw0"))
	eventually(t, time.Minute, "describe subnet defaultnet marks the node's address", func(context.Context) (bool, error) {
		out := squeeze(kubectl(t, "describe", "subnet", "defaultnet"))
		return nodeLine.MatchString(out) || strings.Contains(out, "usedPool lists the first"), nil
	})
}

// squeeze collapses runs of spaces (describe aligns its columns).
func squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// kubectl runs the lab's kubectl (or the one on PATH) and returns its
// output; a failure fails the test.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runKubectl(t, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func kubectlNoFail(t *testing.T, args ...string) {
	if out, err := runKubectl(t, args...); err != nil {
		t.Logf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func runKubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		matches, _ := filepath.Glob(filepath.Join("..", "..", "_output", "k8s", "v*", "bin", "kubectl"))
		if len(matches) == 0 {
			missing(t, "no kubectl on PATH nor in _output/k8s/*/bin (hack/k8s/build.sh builds it)")
		}
		bin = matches[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}
