package controlplane

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/ipam"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// One API server for all benchmarks: Go calls a benchmark several times
// with growing b.N.
var bench struct {
	once   sync.Once
	srv    *apiserver.Server
	c      client.Client
	cache  cache.Cache
	cancel context.CancelFunc
	err    error
}

func benchEnv(b *testing.B) (client.Client, cache.Cache) {
	bench.once.Do(func() {
		bench.srv, bench.err = apiserver.Run(apiserver.Options{})
		if bench.err != nil {
			return
		}
		root, err := apiserver.RepoRoot()
		if err != nil {
			bench.err = err
			return
		}
		ctx := context.Background()
		if _, bench.err = bench.srv.InstallCRDs(ctx, filepath.Join(root, apiserver.CRDDir)); bench.err != nil {
			return
		}
		scheme, _ := controller.NewScheme()
		if bench.c, bench.err = client.New(bench.srv.Config(), client.Options{Scheme: scheme}); bench.err != nil {
			return
		}
		if bench.cache, bench.err = cache.New(bench.srv.Config(), cache.Options{Scheme: scheme}); bench.err != nil {
			return
		}
		if bench.err = ipam.IndexBlocks(ctx, bench.cache); bench.err != nil {
			return
		}
		var cctx context.Context
		cctx, bench.cancel = context.WithCancel(ctx)
		go func() { _ = bench.cache.Start(cctx) }()
		bench.cache.WaitForCacheSync(ctx)
		bench.err = bench.c.Create(ctx, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "bench"}, Spec: v1alpha1.SubNetSpec{CIDR: "10.128.0.0/12"}})
		if bench.err == nil {
			bench.err = bench.c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "baseline"}})
		}
	})
	if bench.err != nil {
		apiserver.SkipOrFail(b, bench.err)
	}
	return bench.c, bench.cache
}

func stopBenchEnv() {
	if bench.cancel != nil {
		bench.cancel()
	}
	if bench.srv != nil {
		bench.srv.Stop()
	}
}

// BenchmarkAllocate measures pod address allocation against a real API
// server, next to the cost of the cheapest write there is (a small
// ConfigMap update) measured in the same run: allocate should stay close
// to one such write.
func BenchmarkAllocate(b *testing.B) {
	c, ca := benchEnv(b)
	ctx := context.Background()
	run := 0

	b.Run("baseline-configmap-update", func(b *testing.B) {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "baseline"}, cm); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			cm.Data = map[string]string{"i": strconv.Itoa(i)}
			if err := c.Update(ctx, cm); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("allocate", func(b *testing.B) {
		run++
		w := &writeCounter{Client: c}
		a := ipam.New(w, ipam.Options{Cache: ca, DefaultSubnet: "bench"})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := fmt.Sprintf("a%d-%d", run, i)
			if _, err := a.Allocate(ctx, ipam.Request{Node: fmt.Sprint("bench-", run), Pod: id, Namespace: "b", ContainerID: id}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(w.writes.Load())/float64(b.N), "writes/op")
	})
	b.Run("allocate-release", func(b *testing.B) {
		run++
		w := &writeCounter{Client: c}
		a := ipam.New(w, ipam.Options{Cache: ca, DefaultSubnet: "bench"})
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := fmt.Sprintf("r%d-%d", run, i)
			if _, err := a.Allocate(ctx, ipam.Request{Node: fmt.Sprint("bench-r", run), Pod: id, Namespace: "b", ContainerID: id}); err != nil {
				b.Fatal(err)
			}
			if err := a.Release(ctx, id, ""); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(w.writes.Load())/float64(b.N), "writes/op")
	})
	// 30 pods of one (new) node at once: group commit, and one write per
	// pod (MaxBatch 1) as the baseline.
	const burst = 30
	for _, m := range []struct {
		name     string
		maxBatch int
	}{{"one-write-per-pod", 1}, {"batched", 0}} {
		b.Run(fmt.Sprintf("burst-%d/%s", burst, m.name), func(b *testing.B) {
			run++
			w := &writeCounter{Client: c}
			a := ipam.New(w, ipam.Options{Cache: ca, DefaultSubnet: "bench", MaxBatch: m.maxBatch})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				node := fmt.Sprintf("bench-b%d-%d", run, i)
				errs := make(chan error, burst)
				var wg sync.WaitGroup
				for p := 0; p < burst; p++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						id := fmt.Sprintf("%s-%d", node, p)
						if _, err := a.Allocate(ctx, ipam.Request{Node: node, Pod: id, Namespace: "b", ContainerID: id}); err != nil {
							errs <- err
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.writes.Load())/float64(b.N*burst), "writes/pod")
		})
	}
}
