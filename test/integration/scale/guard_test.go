package scale

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"
)

// EnvMaxRSS bounds the test process's memory in MiB (default 4096): this
// machine is shared, so past it the test writes a heap profile and aborts.
const EnvMaxRSS = "KUBEFAY_SCALE_MAX_RSS_MIB"

// guardMemory logs the process's memory every 30 s and aborts the test
// binary (its children die with it: Pdeathsig) when RSS passes the bound.
func guardMemory(t *testing.T, progress func() string) {
	limit := int64(4096)
	if v, err := strconv.ParseInt(os.Getenv(EnvMaxRSS), 10, 64); err == nil && v > 0 {
		limit = v
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			u, err := readUsage(os.Getpid())
			if err != nil {
				continue
			}
			var ms runtime.MemStats
			if i%15 == 0 || u.rss>>20 > limit {
				runtime.ReadMemStats(&ms)
				t.Logf("memory: RSS %s, heap in use %s, %d goroutines; %s", mib(u.rss), mib(int64(ms.HeapInuse)), runtime.NumGoroutine(), progress())
			}
			if u.rss>>20 > limit {
				p := filepath.Join(os.TempDir(), fmt.Sprintf("kubefay-scale-heap-%d.pprof", os.Getpid()))
				if f, err := os.Create(p); err == nil {
					_ = pprof.WriteHeapProfile(f)
					f.Close()
				}
				panic(fmt.Sprintf("scale test: RSS %s over %s=%d; heap profile in %s", mib(u.rss), EnvMaxRSS, limit, p))
			}
		}
	}()
}
