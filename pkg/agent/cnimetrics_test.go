package agent

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/cni/api"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// okPlumber wires every pod.
type okPlumber struct{}

func (okPlumber) Prepare(context.Context, podif.PodIfaceSpec) error { return nil }
func (okPlumber) Configure(_ context.Context, s podif.PodIfaceSpec) (*podif.Result, error) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	return &podif.Result{HostIfName: s.HostIfName, HostMAC: mac, PodIfName: s.IfName, PodMAC: mac}, nil
}
func (okPlumber) Teardown(context.Context, string) error          { return nil }
func (okPlumber) Check(context.Context, podif.PodIfaceSpec) error { return nil }

// failingIPAM has no address to give.
type failingIPAM struct{ fakeIPAM }

func (failingIPAM) Allocate(context.Context, PodRef) (Allocation, error) {
	return Allocation{}, errors.New("subnet full")
}

// TestAddMetrics: a successful ADD observes its four phases; a failed one
// the phases it ran and one failure of the stage that failed.
func TestAddMetrics(t *testing.T) {
	yes, no := func() bool { return true }, func() bool { return false }
	tests := []struct {
		name        string
		h           *CNIHandler
		netns, pod  string
		wantPhases  []string // phases observed
		wantFailure string
	}{
		{name: "success", h: &CNIHandler{IPAM: &fakeIPAM{}, Plumber: okPlumber{}}, wantPhases: addPhases[:]},
		{name: "not initialized", h: &CNIHandler{Initialized: no}, wantFailure: addStageNotInitialized},
		{name: "no netns", h: &CNIHandler{}, netns: "-", wantFailure: addStageRequest},
		{name: "no pod name", h: &CNIHandler{}, pod: "-", wantFailure: addStageRequest},
		{name: "pod info", h: &CNIHandler{ResolvePod: func(context.Context, *PodRef) error { return errors.New("no namespace") }},
			wantFailure: addStagePodInfo},
		// the veth pair and port are made while the address is allocated
		{name: "ipam", h: &CNIHandler{IPAM: &failingIPAM{}, Plumber: okPlumber{}}, wantPhases: []string{"ipam", "veth", "ovs_port"}, wantFailure: "ipam"},
		{name: "veth", h: &CNIHandler{IPAM: &fakeIPAM{}, Plumber: &failingPlumber{}}, wantPhases: []string{"ipam", "veth"}, wantFailure: "veth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewAddMetrics()
			h := tt.h
			h.Metrics, h.Ports, h.Flows = m, nullPorts{}, flowsync.New[*of.Flow](nullSwitch{})
			if h.Initialized == nil {
				h.Initialized = yes
			}
			req := &api.Request{ContainerID: "c1", IfName: "eth0", Netns: "/run/netns/x"}
			req.Pod.Namespace, req.Pod.Name = "ns", "p"
			if tt.netns == "-" {
				req.Netns = ""
			}
			if tt.pod == "-" {
				req.Pod.Name = ""
			}
			_, err := h.Add(context.Background(), req)
			if (err != nil) != (tt.wantFailure != "") {
				t.Fatalf("ADD: %v, want failure %q", err, tt.wantFailure)
			}
			phases, failures := addCounts(t, m)
			for _, phase := range addPhases {
				want := uint64(0)
				if slices.Contains(tt.wantPhases, phase) {
					want = 1
				}
				if phases[phase] != want {
					t.Errorf("phase %s observed %d times, want %d (all: %v)", phase, phases[phase], want, phases)
				}
			}
			wantFailures := map[string]float64{}
			if tt.wantFailure != "" {
				wantFailures[tt.wantFailure] = 1
			}
			if !maps.Equal(failures, wantFailures) {
				t.Errorf("failures %v, want %v", failures, wantFailures)
			}
		})
	}
}

// addCounts returns the observations per phase and the failures per stage.
func addCounts(t *testing.T, m *AddMetrics) (map[string]uint64, map[string]float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	phases, failures := map[string]uint64{}, map[string]float64{}
	for _, mf := range mfs {
		for _, x := range mf.GetMetric() {
			if len(x.GetLabel()) == 0 {
				continue // the pending teardowns gauge
			}
			l := x.GetLabel()[0].GetValue()
			switch mf.GetName() {
			case "kubefay_cni_add_phase_duration_seconds":
				phases[l] = x.GetHistogram().GetSampleCount()
			case "kubefay_cni_add_failures_total":
				failures[l] = x.GetCounter().GetValue()
			}
		}
	}
	return phases, failures
}
