package agent

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// flakyGetter fails n times (no API server yet), then answers.
type flakyGetter struct{ n int }

func (f *flakyGetter) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	if f.n > 0 {
		f.n--
		return nil, errors.New(`failed to get server groups: Get "https://10.96.0.1:443/api": dial tcp 10.96.0.1:443: i/o timeout`)
	}
	return nil, nil
}

// TestGetInformerWaitsForTheAPIServer: on a fresh node the agent may start
// before kube-proxy made the API service reachable; it waits, not ready and
// saying why, instead of exiting (a restart on every fresh install).
func TestGetInformerWaitsForTheAPIServer(t *testing.T) {
	var reasons []string
	g := &flakyGetter{n: 2}
	if _, err := getInformerEvery(context.Background(), g, &corev1.Pod{}, func(s string) { reasons = append(reasons, s) }, 0); err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 {
		t.Errorf("not-ready reasons %q, want 2", reasons)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := getInformerEvery(ctx, &flakyGetter{n: 1}, &corev1.Pod{}, func(string) {}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("with the agent stopping: %v, want context.Canceled", err)
	}
}
