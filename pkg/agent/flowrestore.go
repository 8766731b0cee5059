package agent

import (
	"context"
	"fmt"
	"sync/atomic"

	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

// finishFlowRestore ends ovs-vswitchd's flow-restore-wait once every desired
// flow is installed on the current connection: a vswitchd (re)started with
// other_config:flow-restore-wait=true keeps the kernel datapath's flows and
// forwards on them until then. connects counts OpenFlow (re)connections: if
// vswitchd restarted during the sync, the flag stays for the next sync.
func finishFlowRestore(ctx context.Context, flows *flowsync.Syncer[*of.Flow], vs *ovsdb.VSwitch, connects *atomic.Int64) error {
	if !vs.FlowRestoreWait() {
		return nil
	}
	before := connects.Load()
	if _, err := flows.Sync(ctx); err != nil { // full after a reconnect, no-op otherwise
		return fmt.Errorf("flows before clearing flow-restore-wait: %w", err)
	}
	if connects.Load() != before {
		return fmt.Errorf("ovs-vswitchd reconnected while flows were restored; syncing again")
	}
	if err := vs.ClearFlowRestoreWait(ctx); err != nil {
		return err
	}
	klog.InfoS("flows restored, cleared OVS flow-restore-wait")
	return nil
}
