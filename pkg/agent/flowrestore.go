package agent

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
)

// ofSession tracks the agent's OpenFlow connection to ovs-vswitchd: how many
// times it (re)connected and whether it is connected now.
type ofSession struct {
	connects atomic.Int64
	up       atomic.Bool
}

func (s *ofSession) connected()    { s.connects.Add(1); s.up.Store(true) }
func (s *ofSession) disconnected() { s.up.Store(false) }

// restoreFlag is OVS's other_config:flow-restore-wait (ovsdb.VSwitch).
type restoreFlag interface {
	FlowRestoreWait() bool
	ClearFlowRestoreWait(ctx context.Context) error
}

// flowSyncer is the part of flowsync.Syncer finishFlowRestore uses.
type flowSyncer interface {
	Sync(ctx context.Context) (flowsync.Stats, error)
}

// errVswitchdAway: no OpenFlow session, so nothing proves the flows are in
// the ovs-vswitchd that will read the flag.
var errVswitchdAway = errors.New("ovs-vswitchd is not connected: flow-restore-wait stays until its flows are installed")

// finishFlowRestore ends ovs-vswitchd's flow-restore-wait once every desired
// flow is installed on the current connection: a vswitchd (re)started with
// other_config:flow-restore-wait=true keeps the kernel datapath's flows and
// forwards on them until then. Never while disconnected (vswitchd stopped,
// about to start with the flag: a sync then is answered from the cache), and
// not if vswitchd reconnected during the sync: the flag stays for the next.
func finishFlowRestore(ctx context.Context, flows flowSyncer, flag restoreFlag, sess *ofSession) error {
	if !flag.FlowRestoreWait() {
		return nil
	}
	if !sess.up.Load() {
		return errVswitchdAway
	}
	before := sess.connects.Load()
	if _, err := flows.Sync(ctx); err != nil { // full after a reconnect, no-op otherwise
		return fmt.Errorf("flows before clearing flow-restore-wait: %w", err)
	}
	if sess.connects.Load() != before || !sess.up.Load() {
		return fmt.Errorf("ovs-vswitchd reconnected while flows were restored; syncing again")
	}
	if err := flag.ClearFlowRestoreWait(ctx); err != nil {
		return err
	}
	klog.InfoS("flows restored, cleared OVS flow-restore-wait")
	return nil
}

// nodeSyncSteps orders one node sync.
type nodeSyncSteps struct {
	initialized func() bool                 // a first complete sync is done
	restoring   func() bool                 // ovs-vswitchd waits for flows (flow-restore-wait)
	restore     func(context.Context) error // finishFlowRestore: flows, then clear the flag
	node        func(context.Context) error // host network and node flows (NodeSync)
	first       func(context.Context) error // the first complete flow sync (deletes released)
}

// run: node state, the first complete flow sync, then the end of a flow
// restore. Except after an ovs-vswitchd restart on an initialized agent:
// the new vswitchd handles no new traffic (no ARP, no new connection) until
// the flag is cleared, and the flow syncer already holds every desired flow,
// so the flows are restored first, before seconds of host-network work.
func (s nodeSyncSteps) run(ctx context.Context) error {
	if s.initialized() && s.restoring() {
		if err := s.restore(ctx); err != nil {
			return err
		}
	}
	if err := s.node(ctx); err != nil {
		return err
	}
	if !s.initialized() {
		if err := s.first(ctx); err != nil {
			return err
		}
	}
	return s.restore(ctx)
}
