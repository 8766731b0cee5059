package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/kubefay/kubefay/pkg/agent"
)

// envWatcher, set to a kubeconfig, turns the test binary into one agent's
// informers (a child process, so that its CPU and memory are its own):
// what kubefay-agent caches, as in pkg/agent (agent.go, policysync.go).
const envWatcher = "KUBEFAY_SCALE_WATCHER"

// watchStats is what the watcher prints (one JSON line) when it ends.
type watchStats struct {
	SyncedAfter time.Duration
	Events      int64 // add/update/delete events delivered to handlers
	Received    int64 // bytes read from the API server (lists + watch streams)
	Requests    int64
	// by resource: "pods", "ipamblocks", ...
	EventsOf   map[string]int64
	ReceivedOf map[string]int64
}

// watched are the resources the agent's informers watch.
var watched = []string{"pods", "ipamblocks", "subnets", "nodes", "namespaces", "networkpolicies"}

func runWatcher(kubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 50, 100 // as the agent
	var tr traffic
	cfg = tr.wrap(cfg)
	scheme := agent.Scheme()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	events := map[string]*atomic.Int64{}
	for _, r := range watched {
		events[r] = new(atomic.Int64)
	}
	counter := func(n *atomic.Int64) toolscache.ResourceEventHandlerFuncs {
		return toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { n.Add(1) },
			UpdateFunc: func(_, _ any) { n.Add(1) },
			DeleteFunc: func(any) { n.Add(1) },
		}
	}
	// the agent's one informer cache: one watch per resource
	start := time.Now()
	c, err := cache.New(cfg, agent.CacheOptions(scheme))
	if err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	for _, k := range agent.WatchedKinds() {
		inf, err := c.GetInformer(ctx, k)
		if err != nil {
			return err
		}
		gvk, err := apiutil.GVKForObject(k, scheme)
		if err != nil {
			return err
		}
		n := events[resourceOf(gvk.Kind)]
		if n == nil {
			return fmt.Errorf("no counter for %s", gvk.Kind)
		}
		if _, err := inf.AddEventHandler(counter(n)); err != nil {
			return err
		}
	}
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("caches did not sync")
	}
	st := watchStats{SyncedAfter: time.Since(start)}
	fmt.Println("synced", st.SyncedAfter.Nanoseconds())
	<-ctx.Done()
	st.Received, st.Requests = tr.received.Load(), tr.reads.Load()+tr.writes.Load()
	st.EventsOf, st.ReceivedOf = map[string]int64{}, map[string]int64{}
	for _, r := range watched {
		st.EventsOf[r] = events[r].Load()
		st.ReceivedOf[r] = tr.receivedFor(r)
		st.Events += st.EventsOf[r]
	}
	return json.NewEncoder(os.Stdout).Encode(st)
}

// startWatcher runs one agent's informers as a child process.
func startWatcher(t *testing.T, cl *cluster, name string) *proc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return startProcEnv(t, cl.dir, name, []string{envWatcher + "=" + cl.srv.Kubeconfig}, self, "-test.run=^$")
}

// waitSynced waits for the watcher's "synced" line.
func waitSynced(t *testing.T, p *proc, timeout time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d time.Duration
	err := poll(ctx, 50*time.Millisecond, func() bool {
		if p.exited() {
			t.Fatalf("%s exited: %v\n%s", p.name, p.err, p.logTail(2000))
		}
		b, _ := os.ReadFile(p.log)
		for _, l := range splitLines(string(b)) {
			var ns int64
			if _, err := fmt.Sscanf(l, "synced %d", &ns); err == nil {
				d = time.Duration(ns)
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("%s not synced after %v\n%s", p.name, timeout, p.logTail(2000))
	}
	return d
}

// stopWatcher ends the watcher and returns its figures.
func stopWatcher(t *testing.T, p *proc) watchStats {
	t.Helper()
	p.stop(syscall.SIGTERM)
	b, _ := os.ReadFile(p.log)
	var st watchStats
	lines := splitLines(string(b))
	for i := len(lines) - 1; i >= 0; i-- {
		if json.Unmarshal([]byte(lines[i]), &st) == nil {
			return st
		}
	}
	t.Errorf("%s printed no figures:\n%s", p.name, p.logTail(2000))
	return st
}

func splitLines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

// resourceOf is the plural resource name of the kinds watched here.
func resourceOf(kind string) string {
	k := strings.ToLower(kind)
	if strings.HasSuffix(k, "y") {
		return strings.TrimSuffix(k, "y") + "ies"
	}
	return k + "s"
}
