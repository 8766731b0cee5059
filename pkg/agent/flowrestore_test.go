package agent

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
)

type fakeFlag struct{ set, cleared bool }

func (f *fakeFlag) FlowRestoreWait() bool { return f.set }
func (f *fakeFlag) ClearFlowRestoreWait(context.Context) error {
	f.set, f.cleared = false, true
	return nil
}

// fakeFlows answers Sync from its cache; during may reconnect or disconnect.
type fakeFlows struct{ during func() }

func (f fakeFlows) Sync(context.Context) (flowsync.Stats, error) {
	if f.during != nil {
		f.during()
	}
	return flowsync.Stats{}, nil
}

func TestFinishFlowRestore(t *testing.T) {
	for _, tc := range []struct {
		name        string
		flag, up    bool
		during      func(*ofSession)
		wantCleared bool
		wantErr     error
	}{
		{name: "no flag: nothing to do", flag: false, up: true},
		{name: "connected, flows synced: cleared", flag: true, up: true, wantCleared: true},
		// vswitchd stopped (restart drill, upgrade): a sync answered from
		// the cache proves nothing about the vswitchd that starts next
		{name: "vswitchd away: flag kept", flag: true, up: false, wantErr: errVswitchdAway},
		{name: "reconnect during the sync: flag kept", flag: true, up: true,
			during: func(s *ofSession) { s.connected() }},
		{name: "disconnect during the sync: flag kept", flag: true, up: true,
			during: func(s *ofSession) { s.disconnected() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sess ofSession
			sess.connected()
			if !tc.up {
				sess.disconnected()
			}
			flag := &fakeFlag{set: tc.flag}
			flows := fakeFlows{}
			if tc.during != nil {
				flows.during = func() { tc.during(&sess) }
			}
			err := finishFlowRestore(context.Background(), flows, flag, &sess)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if flag.cleared != tc.wantCleared {
				t.Fatalf("cleared = %v, want %v (err %v)", flag.cleared, tc.wantCleared, err)
			}
		})
	}
}

func TestNodeSyncStepsOrder(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		initialized, restoring bool
		want                   []string
	}{
		{"agent start", false, false, []string{"node", "first", "restore"}},
		// the agent started while vswitchd waits: the desired state is not
		// complete before the first sync, restoring then would delete flows
		{"agent start, vswitchd waiting", false, true, []string{"node", "first", "restore"}},
		{"steady state", true, false, []string{"node", "restore"}},
		{"vswitchd restarted", true, true, []string{"restore", "node", "restore"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			step := func(name string) func(context.Context) error {
				return func(context.Context) error { got = append(got, name); return nil }
			}
			s := nodeSyncSteps{
				initialized: func() bool { return tc.initialized },
				restoring:   func() bool { return tc.restoring },
				restore:     step("restore"), node: step("node"), first: step("first"),
			}
			if err := s.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
		})
	}
}
