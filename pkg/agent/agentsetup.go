package agent

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/nodenet"
	"github.com/kubefay/kubefay/pkg/ipam"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

// Run's first phases: the API, the host and OVS, OpenFlow.

// connectAPI builds the API clients — the informer cache for what the node
// follows, a direct client for writes — waits for the cache and builds IPAM.
func (a *nodeAgent) connectAPI(ctx context.Context) error {
	restCfg, err := rest.InClusterConfig()
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	restCfg.QPS, restCfg.Burst = 50, 100

	if a.cfg.SecureMetricsAddr != "" {
		if err := serveSecureMetrics(ctx, a.cfg.SecureMetricsAddr, restCfg, a.reg); err != nil {
			return err
		}
	}
	scheme := Scheme()
	if a.c, err = client.New(restCfg, client.Options{Scheme: scheme}); err != nil {
		return err
	}
	if a.informers, err = cache.New(restCfg, CacheOptions(scheme)); err != nil {
		return err
	}
	if err := ipam.IndexBlocks(ctx, a.informers); err != nil {
		return fmt.Errorf("indexing IPAM blocks by subnet: %w", err)
	}
	go func() {
		if err := a.informers.Start(ctx); err != nil {
			klog.ErrorS(err, "informers stopped")
		}
	}()
	for _, o := range WatchedKinds() {
		if _, err := getInformer(ctx, a.informers, o, a.h.setNotReady); err != nil {
			return fmt.Errorf("informer %T: %w", o, err)
		}
	}
	if !a.informers.WaitForCacheSync(ctx) {
		return fmt.Errorf("informer caches did not sync")
	}
	ipamMetrics := ipam.NewMetrics()
	a.reg.MustRegister(ipamMetrics)
	a.alloc = ipam.New(a.c, ipam.Options{Cache: a.informers, APIReader: a.c, DefaultSubnet: a.cfg.DefaultSubnet, Metrics: ipamMetrics})
	return nil
}

// detectMTU reads the node's underlay address and derives the pod MTU.
func (a *nodeAgent) detectMTU(ctx context.Context) error {
	var self corev1.Node
	if err := a.c.Get(ctx, client.ObjectKey{Name: a.node}, &self); err != nil {
		return fmt.Errorf("read Node %s: %w", a.node, err)
	}
	if a.nodeIP = nodeInternalIP(&self); !a.nodeIP.IsValid() {
		return fmt.Errorf("node %s reports no IPv4 InternalIP", a.node)
	}
	var err error
	if a.mtu, err = nodenet.MTU(a.cfg.MTU, a.nodeIP, nodenet.TunnelOverhead); err != nil {
		return fmt.Errorf("pod MTU: %w", err)
	}
	return nil
}

// setUpBridge makes br-int, tun0 and gw0 as configured (EnsureBridge).
func (a *nodeAgent) setUpBridge(ctx context.Context, ovs *ovsdb.Client) error {
	var err error
	if a.vs, err = ovsdb.NewVSwitch(ctx, ovs, ovsdb.VSwitchOptions{}); err != nil {
		return fmt.Errorf("ovsdb: %w", err)
	}
	if err := EnsureBridge(ctx, a.vs, &a.cfg, a.mtu); err != nil {
		return err
	}
	if a.gw, err = net.InterfaceByName(a.cfg.GatewayPort); err != nil {
		return fmt.Errorf("gateway port %s: %w", a.cfg.GatewayPort, err)
	}
	a.ports = ovsPorts{vs: a.vs, bridge: a.cfg.Bridge}
	return nil
}

// connectOpenFlow connects to br-int and builds the flow syncer; every
// (re)connection re-reads the installed flows and converges.
func (a *nodeAgent) connectOpenFlow(ctx context.Context) error {
	conn, err := of.Connect(ctx, of.Config{
		Target: "unix:" + filepath.Join(a.cfg.OVSRunDir, a.cfg.Bridge+".mgmt"),
		// A restarted ovs-vswitchd handles no new flow (no ARP, no new
		// connection; on netdev: nothing at all) until the agent has
		// reinstalled its flows and cleared flow-restore-wait. Dialing a
		// local socket is cheap: retry every 50-200 ms, no long back-off.
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		OnDisconnect: func(err error) {
			a.sess.disconnected()
			klog.InfoS("OpenFlow connection to ovs-vswitchd lost", "bridge", a.cfg.Bridge, "err", err)
		},
		OnConnect: func(ctx context.Context, _ *of.Conn) error {
			a.sess.connected()
			klog.InfoS("OpenFlow connected to ovs-vswitchd", "bridge", a.cfg.Bridge, "connects", a.sess.connects.Load())
			if a.flows != nil {
				a.flows.Invalidate()
				a.sync.trigger()
			}
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("openflow %s: %w", a.cfg.Bridge, err)
	}
	a.conn = conn
	// The previous run's flows keep forwarding until the desired state is
	// complete (policies loaded, pods restored, first node sync): only then
	// may a sync delete what nobody claims.
	flows := flowsync.New[*of.Flow](ofFlowSwitch{conn: conn})
	flows.HoldDeletes()
	conflicts := prometheus.NewCounter(prometheus.CounterOpts{Name: "kubefay_flow_conflicts_total",
		Help: "Flows two owners (pods, node, policies) wanted differently; the later claim was installed."})
	a.reg.MustRegister(conflicts)
	flows.OnConflict = func(key, loser, winner string) {
		conflicts.Inc()
		klog.ErrorS(nil, "two owners want different flows under one key; installing the later claim", "flow", key, "kept", winner, "overridden", loser)
	}
	a.flows = flows
	a.reg.MustRegister(&stateMetrics{node: a.node, flows: flows.Owners, sess: &a.sess})
	return nil
}
