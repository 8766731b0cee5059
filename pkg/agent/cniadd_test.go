package agent

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/cni/api"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// overlapNode's address allocation waits until the pod's port exists: an
// ADD that allocates before wiring never gets an address.
type overlapNode struct {
	mu       sync.Mutex
	log      []string
	portUp   chan struct{}
	fail     bool              // the allocation fails (subnet full)
	recorded map[string]string // the port's external IDs as last recorded
}

func (n *overlapNode) note(s string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.log = append(n.log, s)
}

func (n *overlapNode) Allocate(ctx context.Context, _ PodRef) (Allocation, error) {
	select {
	case <-n.portUp:
	case <-time.After(10 * time.Second):
		return Allocation{}, errors.New("allocation waited for a port that never came: wiring waits for the address")
	}
	n.note("allocated")
	if n.fail {
		return Allocation{}, errors.New("subnet full")
	}
	return Allocation{IP: netip.MustParsePrefix("10.192.0.7/16"), Gateway: netip.MustParseAddr("10.192.0.1"), Subnet: "defaultnet"}, nil
}

func (n *overlapNode) Release(context.Context, string, string) error { n.note("released"); return nil }

func (n *overlapNode) Prepare(_ context.Context, s podif.PodIfaceSpec) error {
	n.note("pair made")
	return nil
}

func (n *overlapNode) Configure(_ context.Context, s podif.PodIfaceSpec) (*podif.Result, error) {
	if !s.IP.IsValid() {
		return nil, errors.New("configured without an address")
	}
	n.note("pod end configured")
	mac := net.HardwareAddr{0x0a, 0x58, 10, 192, 0, 7}
	return &podif.Result{HostIfName: s.HostIfName, PodIfName: s.IfName, HostMAC: mac, PodMAC: mac}, nil
}

func (n *overlapNode) Teardown(context.Context, string) error          { n.note("veth deleted"); return nil }
func (n *overlapNode) Check(context.Context, podif.PodIfaceSpec) error { return nil }

func (n *overlapNode) EnsurePodPort(_ context.Context, _ string, ids map[string]string) (uint32, error) {
	n.note("port added")
	close(n.portUp)
	return 5, nil
}

func (n *overlapNode) RecordPodPort(_ context.Context, _ string, ids map[string]string) error {
	n.mu.Lock()
	n.recorded = ids
	n.mu.Unlock()
	n.note("port recorded")
	return nil
}

func (n *overlapNode) DeletePort(context.Context, string) (func(context.Context) error, error) {
	n.note("port deleted")
	return func(context.Context) error { return nil }, nil
}

func (n *overlapNode) ListPodPorts(context.Context) ([]PodPort, error) { return nil, nil }

// TestAddAllocatesWhileWiring: ADD makes the veth pair and the OVS port
// while the address is allocated, then configures the pod end and records
// the address on the port before the flows; a failed allocation undoes the
// pair and the port.
func TestAddAllocatesWhileWiring(t *testing.T) {
	tests := []struct {
		name    string
		fail    bool
		wantLog []string
	}{
		{"allocated", false, []string{"pair made", "port added", "allocated", "pod end configured", "port recorded"}},
		{"subnet full", true, []string{"pair made", "port added", "allocated", "port deleted", "veth deleted", "released"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &overlapNode{portUp: make(chan struct{}), fail: tt.fail}
			h := &CNIHandler{IPAM: n, Ports: n, Plumber: n, Flows: flowsync.New[*of.Flow](nullSwitch{})}
			req := delRequest(api.CommandAdd)
			res, err := h.Add(context.Background(), req)
			if (err != nil) != tt.fail {
				t.Fatalf("ADD: %v, want failure %v", err, tt.fail)
			}
			if !slices.Equal(n.log, tt.wantLog) {
				t.Fatalf("ADD did %v, want %v", n.log, tt.wantLog)
			}
			if tt.fail {
				return
			}
			if res.IPs[0].Address.String() != "10.192.0.7/16" || n.recorded[ExternalIDIP] != "10.192.0.7/16" ||
				n.recorded[ExternalIDContainerID] != req.ContainerID || n.recorded[ExternalIDMAC] != "0a:58:0a:c0:00:07" {
				t.Errorf("result %v, port record %v", res.IPs, n.recorded)
			}
		})
	}
}
