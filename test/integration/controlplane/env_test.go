// Package controlplane tests kubefay's CRDs, IPAM and controller against a
// real etcd + kube-apiserver (pkg/testing/apiserver).
package controlplane

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/ipam"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

func init() {
	// controller-runtime logs through klog, like the binaries.
	ctrllog.SetLogger(klog.NewKlogr())
}

// env is an API server with kubefay's CRDs installed.
type env struct {
	srv    *apiserver.Server
	cfg    *rest.Config
	scheme *runtime.Scheme
	c      client.Client
}

func setup(t testing.TB) *env {
	t.Helper()
	srv := apiserver.Start(t, apiserver.Options{})
	root, err := apiserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := srv.InstallCRDs(ctx, filepath.Join(root, apiserver.CRDDir)); err != nil {
		t.Fatal(err)
	}
	scheme, err := controller.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.Config(), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, cfg: srv.Config(), scheme: scheme, c: c}
}

// create creates objs in order and fails the test on the first error.
func (e *env) create(t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := e.c.Create(context.Background(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// podNamespace is a namespace pods can be created in here: with its
// default ServiceAccount, which no controller-manager creates in these tests.
func podNamespace(name string) []client.Object {
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "default"}},
	}
}

// startCache starts an informer cache, as an agent or the controller has,
// and stops it when the test ends.
func (e *env) startCache(t testing.TB) cache.Cache {
	t.Helper()
	ca, err := cache.New(e.cfg, cache.Options{Scheme: e.scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := ipam.IndexBlocks(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ca.Start(ctx); err != nil {
			t.Errorf("cache: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ca
}

// runController runs kubefay-controller's manager until the test ends.
func (e *env) runController(t testing.TB, cfg *controller.Config) {
	t.Helper()
	cfg.Default()
	e.startManager(t, e.cfg, cfg)
}

// startManager runs kubefay-controller's manager for cfg (already
// defaulted) with identity restCfg until the test ends.
func (e *env) startManager(t testing.TB, restCfg *rest.Config, cfg *controller.Config) {
	t.Helper()
	mgr, err := controller.NewManager(restCfg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			t.Errorf("controller: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// eventually polls cond until it returns "" or the timeout passes, then
// fails with cond's last answer.
func eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("after %v: %s", timeout, last)
}

// expectRefusal checks a write's answer: accepted when wantErr is empty,
// else refused with an error containing wantErr.
func expectRefusal(t *testing.T, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("err = %v\nwant it to contain %q", err, wantErr)
	case err != nil:
		t.Logf("refused as expected: %v", err)
	}
}
