package flowsync

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// blockingSwitch is a fakeSwitch whose Apply waits until release is closed
// (after telling entered), so a test can act while a bundle is in flight.
type blockingSwitch struct {
	fakeSwitch
	mu      sync.Mutex
	entered chan struct{}
	release chan struct{}
}

func (s *blockingSwitch) Installed(ctx context.Context) ([]fakeFlow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fakeSwitch.Installed(ctx)
}

func (s *blockingSwitch) Apply(ctx context.Context, add, mod, del []fakeFlow) error {
	if s.entered != nil {
		s.entered <- struct{}{}
		<-s.release
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fakeSwitch.Apply(ctx, add, mod, del)
}

// syncInFlight starts a Sync that installs owner a's flow k1 and returns
// while its bundle is in flight; finish lets the bundle through and
// returns the Sync's error.
func syncInFlight() (s *Syncer[fakeFlow], sw *blockingSwitch, finish func() error) {
	sw = &blockingSwitch{fakeSwitch: fakeSwitch{flows: map[string]fakeFlow{}},
		entered: make(chan struct{}), release: make(chan struct{})}
	s = New[fakeFlow](sw)
	s.Invalidate()
	s.Set("a", []fakeFlow{{"k1", "a"}})
	synced := make(chan error, 1)
	go func() { _, err := s.Sync(context.Background()); synced <- err }()
	<-sw.entered
	return s, sw, func() error {
		sw.entered = nil
		close(sw.release)
		return <-synced
	}
}

// TestSetDuringApply: while one Sync's bundle is in flight, other owners'
// Set and Desired proceed (they used to wait for the OVS round trip), and
// the next Sync installs what they set.
func TestSetDuringApply(t *testing.T) {
	s, sw, finish := syncInFlight()

	set := make(chan struct{})
	go func() {
		s.Set("b", []fakeFlow{{"k2", "b"}})
		_ = s.Desired()
		close(set)
	}()
	select {
	case <-set:
	case <-time.After(10 * time.Second): // a deadlock detector, not a timing assertion
		t.Fatal("Set waited for the bundle in flight")
	}
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Sync(context.Background()); err != nil || st != (Stats{Added: 1}) {
		t.Fatalf("second Sync = %+v, %v; want k2 added", st, err)
	}
	if got := fmt.Sprint(sw.texts()); got != "[k1 a k2 b]" {
		t.Fatalf("bridge = %s", got)
	}
}

// TestInvalidateDuringApply: an Invalidate while a bundle is in flight
// (the OpenFlow connection came back) makes the next Sync read the bridge.
func TestInvalidateDuringApply(t *testing.T) {
	s, sw, finish := syncInFlight()
	s.Invalidate()
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	sw.mu.Lock()
	sw.flows = map[string]fakeFlow{} // the new ovs-vswitchd started empty
	sw.mu.Unlock()
	if st, err := s.Sync(context.Background()); err != nil || st != (Stats{Added: 1}) {
		t.Fatalf("Sync after Invalidate = %+v, %v; want k1 added again", st, err)
	}
}

// TestConcurrentSetAndSync: many owners at once; when each SetAndSync
// returns, its flow is on the bridge, and every flow ends up installed.
func TestConcurrentSetAndSync(t *testing.T) {
	sw := &blockingSwitch{fakeSwitch: fakeSwitch{flows: map[string]fakeFlow{}}}
	s := New[fakeFlow](sw)
	s.Invalidate()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprint("k", i)
			if _, err := s.SetAndSync(context.Background(), k, []fakeFlow{{k, "x"}}); err != nil {
				errs <- err
				return
			}
			sw.mu.Lock()
			_, ok := sw.flows[k]
			sw.mu.Unlock()
			if !ok {
				errs <- fmt.Errorf("%s not installed when its SetAndSync returned", k)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(sw.flows) != 50 {
		t.Fatalf("%d flows installed, want 50", len(sw.flows))
	}
	t.Logf("50 SetAndSync calls, %d bundles", sw.applies)
}
