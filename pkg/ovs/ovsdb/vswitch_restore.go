package ovsdb

import "context"

// flowRestoreWait is the Open_vSwitch other_config key that makes a starting
// ovs-vswitchd keep the datapath's flows and not flush them until it is
// removed: the OVS start-up sets it when it restarts an existing switch, the
// controller removes it once it has installed its flows again.
const flowRestoreWait = "flow-restore-wait"

// FlowRestoreWait reports whether other_config:flow-restore-wait is "true"
// (from the monitor cache; no round trip).
func (v *VSwitch) FlowRestoreWait() bool {
	root, err := v.rootRow()
	return err == nil && root.StringMap("other_config")[flowRestoreWait] == "true"
}

// ClearFlowRestoreWait removes other_config:flow-restore-wait, so that
// ovs-vswitchd starts revalidating the datapath against the OpenFlow tables
// it now holds. Nothing is sent when the key is absent.
func (v *VSwitch) ClearFlowRestoreWait(ctx context.Context) error {
	return v.commit(ctx, "clear "+flowRestoreWait, func() (*change, error) {
		root, err := v.rootRow()
		if err != nil {
			return nil, err
		}
		if _, ok := root.StringMap("other_config")[flowRestoreWait]; !ok {
			return nil, nil
		}
		return &change{ops: []Operation{{Op: OpMutate, Table: TableRoot, Where: byUUID(root.UUID()),
			Mutations: []Mutation{Mutate("other_config", "delete", Set{flowRestoreWait})}}}}, nil
	})
}
