package ipam

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkBurst allocates a burst of pods on one node at once, against a
// fake API server whose block writes take 5 ms: batched (group commit),
// and one write per pod (MaxBatch 1, the path before group commit) as the
// baseline of the same run. ns/op is one whole burst; writes/pod counts
// block writes, p99-ms is the 99th percentile of one pod's Allocate.
//
//	go test -run '^$' -bench Burst -benchtime 5x ./pkg/ipam
func BenchmarkBurst(b *testing.B) {
	const latency = 5 * time.Millisecond
	modes := []struct {
		name     string
		maxBatch int
	}{{"one-write-per-pod", 1}, {"batched", 0}}
	for _, n := range []int{30, 100} {
		for _, m := range modes {
			b.Run(fmt.Sprintf("pods=%d/%s", n, m.name), func(b *testing.B) {
				writes := 0
				var took []time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					w := &blockWrites{latency: latency}
					a := New(w.client(b, subnetObj("net", "10.0.0.0/16")), Options{MaxBatch: m.maxBatch})
					b.StartTimer()
					took = append(took, allocateAtOnce(b, a, n)...)
					writes += w.count()
				}
				slices.Sort(took)
				b.ReportMetric(float64(writes)/float64(b.N*n), "writes/pod")
				b.ReportMetric(float64(took[len(took)*99/100])/float64(time.Millisecond), "p99-ms")
			})
		}
	}
}

// allocateAtOnce starts n allocations on node n1 together and returns how
// long each took.
func allocateAtOnce(b *testing.B, a *Allocator, n int) []time.Duration {
	took := make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range took {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			_, errs[i] = a.Allocate(context.Background(), req("n1", fmt.Sprintf("p%d", i)))
			took[i] = time.Since(t0)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return took
}
