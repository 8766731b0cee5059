package agent

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/cni/api"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// slowNode is a node whose veth deletion and address release wait for gate,
// recording in log what DEL and ADD did in which order.
type slowNode struct {
	mu        sync.Mutex
	installed []*of.Flow
	log       []string
	gate      chan struct{}
	failFirst int // Release calls to fail before succeeding
}

func (n *slowNode) note(s string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.log = append(n.log, s)
}

func (n *slowNode) events() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.log...)
}

func (n *slowNode) Installed(context.Context) ([]*of.Flow, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.installed, nil
}

func (n *slowNode) Apply(_ context.Context, add, _, del []*of.Flow) error {
	n.mu.Lock()
	n.installed = append(n.installed, add...)
	n.mu.Unlock()
	if len(del) > 0 {
		n.note("flows removed")
	}
	return nil
}

func (n *slowNode) EnsurePodPort(context.Context, string, map[string]string) (uint32, error) {
	n.note("port added")
	return 5, nil
}

func (n *slowNode) RecordPodPort(context.Context, string, map[string]string) error { return nil }

func (n *slowNode) Prepare(context.Context, podif.PodIfaceSpec) error { return nil }

func (n *slowNode) DeletePort(context.Context, string) (func(context.Context) error, error) {
	n.note("port deleted")
	return func(context.Context) error { n.note("vswitchd applied"); return nil }, nil
}

func (n *slowNode) ListPodPorts(context.Context) ([]PodPort, error) { return nil, nil }

func (n *slowNode) Configure(context.Context, podif.PodIfaceSpec) (*podif.Result, error) {
	n.note("veth created")
	return &podif.Result{}, nil
}

func (n *slowNode) Teardown(ctx context.Context, _ string) error {
	select {
	case <-n.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	n.note("veth deleted")
	return nil
}

func (n *slowNode) Check(context.Context, podif.PodIfaceSpec) error { return nil }

func (n *slowNode) Allocate(context.Context, PodRef) (Allocation, error) {
	n.note("address allocated")
	return (&fakeIPAM{}).Allocate(context.Background(), PodRef{})
}

func (n *slowNode) Release(context.Context, string, string) error {
	n.mu.Lock()
	fail := n.failFirst > 0
	n.failFirst--
	n.mu.Unlock()
	if fail {
		n.note("release failed")
		return errors.New("apiserver unavailable")
	}
	n.note("address released")
	return nil
}

func delRequest(cmd api.Command) *api.Request {
	req := &api.Request{Command: cmd, ContainerID: "c1", IfName: "eth0", Netns: "/run/netns/x"}
	req.Pod.Namespace, req.Pod.Name = "ns", "p"
	return req
}

// TestDelAnswersBeforeTeardown: DEL answers once the pod's flows and port
// are gone, without waiting for the veth deletion and the address release;
// those run after, the veth only once ovs-vswitchd let go of the port; a
// repeated DEL does not start a second teardown; an ADD of the same
// container waits for the teardown before allocating.
func TestDelAnswersBeforeTeardown(t *testing.T) {
	n := &slowNode{gate: make(chan struct{})}
	h := &CNIHandler{IPAM: n, Ports: n, Plumber: n, Flows: flowsync.New[*of.Flow](n)}
	h.Flows.Set(podOwner("c1", "eth0"), []*of.Flow{of.NewFlow(0).Priority(190).MatchInPort(5).Drop()})
	if _, err := h.Flows.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	answered := make(chan error, 2)
	go func() {
		answered <- h.Del(context.Background(), delRequest(api.CommandDel))
		answered <- h.Del(context.Background(), delRequest(api.CommandDel)) // kubelet's repeated DEL
	}()
	for i := 0; i < 2; i++ {
		select {
		case err := <-answered:
			if err != nil {
				t.Fatalf("DEL: %v", err)
			}
		case <-time.After(10 * time.Second):
			close(n.gate)
			t.Fatalf("DEL waited for the veth deletion and the address release; did: %v", n.events())
		}
	}
	got := n.events()
	if !slices.Equal(got[:2], []string{"flows removed", "port deleted"}) || slices.Contains(got, "veth deleted") || slices.Contains(got, "address released") {
		t.Fatalf("when DEL answered: %v, want the flows removed, then the port, and neither veth nor address yet", got)
	}
	added := make(chan error, 1)
	go func() { _, err := h.Add(context.Background(), delRequest(api.CommandAdd)); added <- err }()
	time.Sleep(50 * time.Millisecond) // ADD must be waiting now, not allocating
	close(n.gate)
	if err := <-added; err != nil {
		t.Fatalf("ADD after DEL: %v", err)
	}
	if err := h.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = n.events()
	order := []string{"vswitchd applied", "veth deleted", "address released", "address allocated"}
	for i := 1; i < len(order); i++ {
		if slices.Index(got, order[i-1]) > slices.Index(got, order[i]) || slices.Index(got, order[i]) < 0 {
			t.Fatalf("events: %v, want %v in this order", got, order)
		}
	}
	if deleted := slices.DeleteFunc(slices.Clone(got), func(e string) bool { return e != "veth deleted" }); len(deleted) != 1 {
		t.Fatalf("events: %v, want one teardown for two DELs", got)
	}
}

// TestTeardownRetries: a release that fails (API server away) is retried
// until it succeeds; Settle waits for it.
func TestTeardownRetries(t *testing.T) {
	defer func(b time.Duration) { teardownBackoff = b }(teardownBackoff)
	teardownBackoff = time.Millisecond
	n := &slowNode{gate: make(chan struct{}), failFirst: 2}
	close(n.gate)
	h := &CNIHandler{IPAM: n, Ports: n, Plumber: n, Flows: flowsync.New[*of.Flow](n)}
	if err := h.Del(context.Background(), delRequest(api.CommandDel)); err != nil {
		t.Fatal(err)
	}
	if err := h.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"port deleted", "vswitchd applied", "veth deleted", "release failed", "release failed", "address released"}
	if got := n.events(); !slices.Equal(got, want) {
		t.Fatalf("events: %v, want %v", got, want)
	}
}
