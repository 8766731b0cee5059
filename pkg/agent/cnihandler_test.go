package agent

import (
	"context"
	"errors"
	"testing"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/kubefay/kubefay/pkg/cni/api"
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
