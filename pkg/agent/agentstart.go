package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/nodenet"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// Run's last phases: what runs until the agent ends.

// startPolicy loads the NetworkPolicy engine from the cache and follows it.
func (a *nodeAgent) startPolicy(ctx context.Context) error {
	a.policies = newPolicySync(a.node, a.flows)
	a.policies.loop.observe = a.syncs.observer("networkpolicy")
	if err := a.policies.start(ctx, a.informers, a.h.setNotReady); err != nil {
		return fmt.Errorf("network policy: %w", err)
	}
	a.reg.MustRegister(a.policies.latency, &policyCounters{conn: a.conn, policies: a.policies})
	return nil
}

// startNodeSync builds the CNI handler, restores the pods attached before
// this start, and runs the node sync (flows, host network) on every change
// of SubNets, IPAMBlocks and Nodes.
func (a *nodeAgent) startNodeSync(ctx context.Context) (*CNIHandler, error) {
	hostNet, err := nodenet.NewReconciler()
	if err != nil {
		return nil, err
	}
	ns := &NodeSync{Node: a.node, GatewayPort: a.cfg.GatewayPort, GatewayMAC: a.gw.HardwareAddr,
		NodeAddress: a.nodeAddr, ServiceCIDRs: a.cfg.ServiceNets(), MTU: a.mtu, Flows: a.flows,
		HostNetwork: hostNet.Apply}
	events := newEventRecorder(ctx, a.c, a.node)
	ns.SubnetProblem = func(subnet, msg string) { events("", subnet, "RouteConflict", msg) }
	ns.SubnetProblems = func(problems map[string]string) error { return PublishSubnetProblems(ctx, a.c, a.node, problems) }

	addMetrics := NewAddMetrics()
	a.reg.MustRegister(addMetrics)
	h := a.h
	plumber := &podif.Plumber{}
	handler := &CNIHandler{
		IPAM: ipamAdapter{a: a.alloc, node: a.node}, Ports: a.ports, Plumber: plumber, Flows: a.flows,
		ResolvePod: apiPodResolver(a.c, a.informers), MTU: a.mtu, Netdev: a.cfg.DatapathType == config.DatapathNetdev,
		Events: events, Ready: h.Ready, Initialized: h.Initialized,
		Policy: a.policies, Metrics: addMetrics,
	}
	// pods that were running before this start keep their flows: rebuild them from OVS
	stale, err := restorePods(ctx, a.node, handler, a.ports, a.informers)
	if err != nil {
		return nil, fmt.Errorf("restore pod flows: %w", err)
	}
	unwired := &unwiredAddresses{node: a.node, started: a.started, ports: a.ports, blocks: a.informers,
		hostLink: plumber.HostIfExists, release: a.alloc.ReleaseIn}
	uctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if n, err := unwired.free(uctx); err != nil || n > 0 {
		klog.InfoS("freed the addresses of containers without an interface", "freed", n, "err", err)
	}
	cancel()
	go removeStale(ctx, handler, h.Ready, stale)
	go sweepFinishedPods(ctx, a.node, handler, a.ports, a.informers, a.c, finishedPodsSweep)
	watch(ctx, a.informers, a.sync.trigger, &v1alpha1.SubNet{}, &v1alpha1.IPAMBlock{}, &corev1.Node{})
	steps := nodeSyncSteps{
		initialized: h.Initialized,
		restoring:   a.vs.FlowRestoreWait,
		restore:     func(ctx context.Context) error { return finishFlowRestore(ctx, a.flows, a.vs, &a.sess) },
		node: func(ctx context.Context) error {
			v, err := readView(ctx, a.informers)
			if err != nil {
				return err
			}
			addr, err := holdNodeAddress(ctx, a.alloc, a.nodeAddrReq, ns.NodeAddress)
			if err != nil {
				return err
			}
			ns.NodeAddress = addr
			return ns.Sync(ctx, v)
		},
		first: func(ctx context.Context) error { // the desired state is complete now
			a.flows.ReleaseDeletes()
			if _, err := a.flows.Sync(ctx); err != nil {
				return fmt.Errorf("flows: %w", err)
			}
			return nil
		},
	}
	a.sync.observe = a.syncs.observer("node")
	go a.sync.run(ctx, func(ctx context.Context) error {
		if err := steps.run(ctx); err != nil {
			h.setNotReady(err.Error())
			return err
		}
		h.setReady()
		return nil
	})
	a.sync.trigger()
	return handler, nil
}

// serveControl serves the local control API (kubectl kubefay trace/flows/
// agent status, through pods/exec).
func (a *nodeAgent) serveControl(ctx context.Context) error {
	h := a.h
	sock := filepath.Join(filepath.Dir(a.cfg.CNISocket), ctl.SocketName)
	if err := ctl.Serve(ctx, sock, NewControlBackend(ControlDeps{Node: a.node, NodeIP: a.nodeIP, Bridge: a.cfg.Bridge,
		OVSRunDir: a.cfg.OVSRunDir, Conn: a.conn, Flows: a.flows, Ports: a.ports, Cache: a.informers, Policies: a.policies,
		Connected: a.sess.up.Load, LastSync: h.lastSync,
		Ready: func() (bool, string) { why, _ := h.reason.Load().(string); return h.Ready(), why },
	})); err != nil {
		return fmt.Errorf("control socket %s: %w", sock, err)
	}
	return nil
}
