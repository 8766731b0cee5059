package agent

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/cni/api"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// TestRequestsWaitForTheFirstCompleteSync: until the agent has installed the
// node's complete state once, every request that touches flows, ports or
// addresses is refused with "try again later" (kubelet retries) and STATUS
// says not ready. The handler has no Flows, Ports or IPAM here: a request
// that got through would panic.
func TestRequestsWaitForTheFirstCompleteSync(t *testing.T) {
	no := func() bool { return false }
	h := &CNIHandler{Ready: no, Initialized: no}
	ctx := context.Background()
	req := &api.Request{ContainerID: "c1", IfName: "eth0", Netns: "/run/netns/x"}
	req.Pod.Namespace, req.Pod.Name = "ns", "p"
	calls := []struct {
		name string
		do   func() error
		code uint
	}{
		{"ADD", func() error { _, err := h.Add(ctx, req); return err }, types.ErrTryAgainLater},
		{"DEL", func() error { return h.Del(ctx, req) }, types.ErrTryAgainLater},
		{"CHECK", func() error { return h.Check(ctx, req) }, types.ErrTryAgainLater},
		{"GC", func() error { return h.GC(ctx, req, nil) }, types.ErrTryAgainLater},
		{"STATUS", func() error { return h.Status(ctx, req) }, 50},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			var e *types.Error
			if err := c.do(); !errors.As(err, &e) || e.Code != c.code {
				t.Fatalf("%s before the first sync: %v, want CNI error code %d", c.name, err, c.code)
			}
		})
	}
}

type fakeIPAM struct{ released []string }

func (f *fakeIPAM) Allocate(context.Context, PodRef) (Allocation, error) {
	return Allocation{IP: netip.MustParsePrefix("10.192.0.7/16"), Gateway: netip.MustParseAddr("10.192.0.1"), Subnet: "defaultnet"}, nil
}
func (f *fakeIPAM) Release(ctx context.Context, id, _ string) error {
	if _, ok := ctx.Deadline(); !ok {
		return errors.New("rollback without a deadline")
	}
	f.released = append(f.released, id)
	return nil
}

// failingPlumber fails to wire the pod; its Teardown records whether the
// rollback's context has a deadline.
type failingPlumber struct{ deadline bool }

func (p *failingPlumber) Prepare(context.Context, podif.PodIfaceSpec) error {
	return errors.New("netns gone")
}
func (p *failingPlumber) Configure(context.Context, podif.PodIfaceSpec) (*podif.Result, error) {
	return nil, errors.New("netns gone")
}
func (p *failingPlumber) Teardown(ctx context.Context, _ string) error {
	_, p.deadline = ctx.Deadline()
	return nil
}
func (p *failingPlumber) Check(context.Context, podif.PodIfaceSpec) error { return nil }

type nullPorts struct{}

func (nullPorts) EnsurePodPort(context.Context, string, map[string]string) (uint32, error) {
	return 5, nil
}
func (nullPorts) RecordPodPort(context.Context, string, map[string]string) error { return nil }
func (nullPorts) DeletePort(context.Context, string) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}
func (nullPorts) ListPodPorts(context.Context) ([]PodPort, error) { return nil, nil }

// TestFailedAddRollsBackWithDeadline: a failed ADD is undone even when
// kubelet's context is already cancelled, but under a deadline of its own,
// so a hung OVS or API server cannot hold the container's lock forever.
func TestFailedAddRollsBackWithDeadline(t *testing.T) {
	ipamFake, plumb := &fakeIPAM{}, &failingPlumber{}
	h := &CNIHandler{IPAM: ipamFake, Ports: nullPorts{}, Plumber: plumb, Flows: flowsync.New[*of.Flow](nullSwitch{})}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // kubelet gave up
	req := &api.Request{ContainerID: "c1", IfName: "eth0", Netns: "/run/netns/x"}
	req.Pod.Namespace, req.Pod.Name = "ns", "p"
	if _, err := h.Add(ctx, req); err == nil {
		t.Fatal("ADD succeeded with a failing plumbing")
	}
	if !plumb.deadline || len(ipamFake.released) != 1 {
		t.Fatalf("rollback: teardown with deadline %v, released %v", plumb.deadline, ipamFake.released)
	}
}

// TestAddAfterAFailedPeriodicSync: once the node's complete state has been
// installed, a later failed sync (an nft or API hiccup) does not turn pod
// creation off: ADD goes on (here to the failing plumbing) instead of
// answering "try again later".
func TestAddAfterAFailedPeriodicSync(t *testing.T) {
	yes, no := func() bool { return true }, func() bool { return false }
	h := &CNIHandler{IPAM: &fakeIPAM{}, Ports: nullPorts{}, Plumber: &failingPlumber{},
		Flows: flowsync.New[*of.Flow](nullSwitch{}), Ready: no, Initialized: yes}
	req := &api.Request{ContainerID: "c1", IfName: "eth0", Netns: "/run/netns/x"}
	req.Pod.Namespace, req.Pod.Name = "ns", "p"
	_, err := h.Add(context.Background(), req)
	var e *types.Error
	if err == nil || (errors.As(err, &e) && e.Code == types.ErrTryAgainLater) {
		t.Fatalf("ADD after a failed periodic sync: %v, want the plumbing's error", err)
	}
}
