package agent

import (
	"context"
	"fmt"
	"time"

	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// informerRetry is how often a start-up informer that cannot reach the API
// server yet (kube-proxy's service rules not in place on a fresh node, an
// API server outage) is tried again.
const informerRetry = 2 * time.Second

// informerGetter is the part of a cache.Cache getInformer uses.
type informerGetter interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// getInformer returns c's informer for o, waiting for the API server (its
// discovery answers which kinds are namespaced) instead of failing the
// agent's start: a restart would not make it come any sooner.
func getInformer(ctx context.Context, c informerGetter, o client.Object, notReady func(string)) (cache.Informer, error) {
	return getInformerEvery(ctx, c, o, notReady, informerRetry)
}

func getInformerEvery(ctx context.Context, c informerGetter, o client.Object, notReady func(string), retry time.Duration) (cache.Informer, error) {
	for {
		inf, err := c.GetInformer(ctx, o)
		if err == nil {
			return inf, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		klog.InfoS("waiting for the API server", "kind", fmt.Sprintf("%T", o), "err", err.Error())
		notReady("waiting for the API server: " + err.Error())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retry):
		}
	}
}
