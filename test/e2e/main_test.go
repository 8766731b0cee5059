// Package e2e holds kubefay's end-to-end tests. They run against a real
// cluster (the lab brought up by `hack/lab up`, see hack/test.sh) through
// client-go, with KUBECONFIG pointing at it.
package e2e

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// cluster is what every e2e test needs to talk to the lab.
type cluster struct {
	cfg *rest.Config
	cs  kubernetes.Interface
}

// connect returns the lab cluster or skips the test (fails under CI=true)
// when there is none.
func connect(t *testing.T) *cluster {
	t.Helper()
	path := os.Getenv("KUBECONFIG")
	if path == "" {
		missing(t, "KUBECONFIG is not set: run `hack/lab up` and export KUBECONFIG=$(hack/lab kubeconfig)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		missing(t, "cannot load KUBECONFIG "+path+": "+err.Error())
	}
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{cfg: cfg, cs: cs}
}

func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// timeScale stretches the suite's waits on a slower lab:
// KUBEFAY_E2E_TIME_SCALE (hack/test.sh sets 3 for the UML nodes of the
// kernel-datapath lab, one virtual CPU each, where every exec into a pod costs
// a second). Waits only: what a test asserts stays the same.
var timeScale = func() time.Duration {
	f, err := strconv.Atoi(os.Getenv("KUBEFAY_E2E_TIME_SCALE"))
	if err != nil || f < 1 {
		return 1
	}
	return time.Duration(f)
}()

// scaled is d on this lab (timeScale).
func scaled(d time.Duration) time.Duration { return d * timeScale }

// eventually polls cond every interval until it returns true or timeout
// (scaled) passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	timeout = scaled(timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var lastErr error
	for {
		ok, err := cond(ctx)
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, lastErr)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
