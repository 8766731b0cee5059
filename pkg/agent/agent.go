// Package agent is kubefay's node agent: it sets up br-int, gw0 and tun0,
// serves the CNI binary's requests, and keeps the node's flows, addresses,
// routes and NAT rules equal to what the API says (SubNets, IPAMBlocks,
// Nodes), re-applying everything after ovs-vswitchd or the agent restarts.
package agent

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/nodenet"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/cni/server"
	"github.com/kubefay/kubefay/pkg/ipam"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/ovs/ovsdb"
)

// Scheme holds the API types the agent reads.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1alpha1.AddToScheme(s)
	return s
}

// Run runs the agent of node until ctx ends.
func Run(ctx context.Context, node string, cfg config.Agent) error {
	h := &health{}
	h.setNotReady("starting")
	reg := newRegistry()
	if err := serveHTTP(ctx, cfg.MetricsAddr, h.handler(reg)); err != nil {
		return fmt.Errorf("metrics/health server on %s: %w", cfg.MetricsAddr, err)
	}

	// --- API clients: a cache for what the datapath follows, a direct client for writes
	restCfg, err := rest.InClusterConfig()
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	restCfg.QPS, restCfg.Burst = 50, 100
	if cfg.SecureMetricsAddr != "" {
		if err := serveSecureMetrics(ctx, cfg.SecureMetricsAddr, restCfg, reg); err != nil {
			return err
		}
	}
	scheme := Scheme()
	c, err := client.New(restCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	informers, err := cache.New(restCfg, CacheOptions(scheme))
	if err != nil {
		return err
	}
	if err := ipam.IndexBlocks(ctx, informers); err != nil {
		return fmt.Errorf("indexing IPAM blocks by subnet: %w", err)
	}
	go func() {
		if err := informers.Start(ctx); err != nil {
			klog.ErrorS(err, "informers stopped")
		}
	}()
	for _, o := range WatchedKinds() {
		if _, err := getInformer(ctx, informers, o, h.setNotReady); err != nil {
			return fmt.Errorf("informer %T: %w", o, err)
		}
	}
	if !informers.WaitForCacheSync(ctx) {
		return fmt.Errorf("informer caches did not sync")
	}
	ipamMetrics := ipam.NewMetrics()
	reg.MustRegister(ipamMetrics)
	alloc := ipam.New(c, ipam.Options{Cache: informers, APIReader: c, DefaultSubnet: cfg.DefaultSubnet, Metrics: ipamMetrics})

	// --- MTU, OVS bridge and ports
	var self corev1.Node
	if err := c.Get(ctx, client.ObjectKey{Name: node}, &self); err != nil {
		return fmt.Errorf("read Node %s: %w", node, err)
	}
	nodeIP := nodeInternalIP(&self)
	if !nodeIP.IsValid() {
		return fmt.Errorf("node %s reports no IPv4 InternalIP", node)
	}
	mtu, err := nodenet.MTU(cfg.MTU, nodeIP, nodenet.TunnelOverhead)
	if err != nil {
		return fmt.Errorf("pod MTU: %w", err)
	}
	ovs, err := ovsdb.Dial(ctx, "unix:"+filepath.Join(cfg.OVSRunDir, "db.sock"), ovsdb.Options{})
	if err != nil {
		return fmt.Errorf("ovsdb: %w", err)
	}
	defer ovs.Close()
	vs, err := ovsdb.NewVSwitch(ctx, ovs, ovsdb.VSwitchOptions{})
	if err != nil {
		return fmt.Errorf("ovsdb: %w", err)
	}
	if err := ensureBridge(ctx, vs, &cfg, mtu); err != nil {
		return err
	}
	gw, err := net.InterfaceByName(cfg.GatewayPort)
	if err != nil {
		return fmt.Errorf("gateway port %s: %w", cfg.GatewayPort, err)
	}

	// --- node address in the default subnet (on gw0, source of host->pod traffic)
	nodeAddrReq := ipam.Request{Subnet: cfg.DefaultSubnet, Node: node, ContainerID: v1alpha1.NodeAddressContainerIDPrefix + node, Interface: cfg.GatewayPort}
	nodeAddr, err := firstNodeAddress(ctx, alloc, nodeAddrReq, 2*time.Second, h.setNotReady)
	if err != nil {
		return err
	}

	// --- OpenFlow: every (re)connection re-reads the installed flows and converges
	var flows *flowsync.Syncer[*of.Flow]
	var sess ofSession
	sync := newSyncLoop()
	conn, err := of.Connect(ctx, of.Config{
		Target: "unix:" + filepath.Join(cfg.OVSRunDir, cfg.Bridge+".mgmt"),
		// A restarted ovs-vswitchd handles no new flow (no ARP, no new
		// connection; on netdev: nothing at all) until the agent has
		// reinstalled its flows and cleared flow-restore-wait. Dialing a
		// local socket is cheap: retry every 50-200 ms, no long back-off.
		MinBackoff: 100 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond,
		OnDisconnect: func(err error) {
			sess.disconnected()
			klog.InfoS("OpenFlow connection to ovs-vswitchd lost", "bridge", cfg.Bridge, "err", err)
		},
		OnConnect: func(ctx context.Context, _ *of.Conn) error {
			sess.connected()
			klog.InfoS("OpenFlow connected to ovs-vswitchd", "bridge", cfg.Bridge, "connects", sess.connects.Load())
			if flows != nil {
				flows.Invalidate()
				sync.trigger()
			}
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("openflow %s: %w", cfg.Bridge, err)
	}
	defer conn.Close()
	// The previous run's flows keep forwarding until the desired state is
	// complete (policies loaded, pods restored, first node sync): only then
	// may a sync delete what nobody claims.
	flows = flowsync.New[*of.Flow](ofFlowSwitch{conn: conn})
	flows.HoldDeletes()
	conflicts := prometheus.NewCounter(prometheus.CounterOpts{Name: "kubefay_flow_conflicts_total",
		Help: "Flows two owners (pods, node, policies) wanted differently; the later claim was installed."})
	reg.MustRegister(conflicts)
	flows.OnConflict = func(key, loser, winner string) {
		conflicts.Inc()
		klog.ErrorS(nil, "two owners want different flows under one key; installing the later claim", "flow", key, "kept", winner, "overridden", loser)
	}
	policies := newPolicySync(node, flows)
	syncs := newSyncDurations()
	sync.observe, policies.loop.observe = syncs.observer("node"), syncs.observer("networkpolicy")
	addMetrics := NewAddMetrics()
	reg.MustRegister(syncs.h, addMetrics, &stateMetrics{node: node, flows: flows.Owners, sess: &sess})
	if err := policies.start(ctx, informers, h.setNotReady); err != nil {
		return fmt.Errorf("network policy: %w", err)
	}
	reg.MustRegister(policies.latency, &policyCounters{conn: conn, policies: policies})

	hostNet, err := nodenet.NewReconciler()
	if err != nil {
		return err
	}
	ns := &NodeSync{Node: node, GatewayPort: cfg.GatewayPort, GatewayMAC: gw.HardwareAddr,
		NodeAddress: nodeAddr, ServiceCIDRs: cfg.ServiceNets(), MTU: mtu, Flows: flows,
		HostNetwork: hostNet.Apply}
	events := newEventRecorder(ctx, c, node)
	ns.SubnetProblem = func(subnet, msg string) { events("", subnet, "RouteConflict", msg) }
	ns.SubnetProblems = func(problems map[string]string) error { return PublishSubnetProblems(ctx, c, node, problems) }

	ports := ovsPorts{vs: vs, bridge: cfg.Bridge}
	handler := &CNIHandler{
		IPAM: ipamAdapter{a: alloc, node: node}, Ports: ports, Plumber: &podif.Plumber{}, Flows: flows,
		ResolvePod: apiPodResolver(c, informers), MTU: mtu, Netdev: cfg.DatapathType == config.DatapathNetdev,
		Events: events, Ready: h.Ready, Initialized: h.Initialized,
		Policy: policies, Metrics: addMetrics,
	}
	// pods that were running before this start keep their flows: rebuild them from OVS
	stale, err := restorePods(ctx, node, handler, ports, informers)
	if err != nil {
		return fmt.Errorf("restore pod flows: %w", err)
	}
	go removeStale(ctx, handler, h.Ready, stale)
	go sweepFinishedPods(ctx, node, handler, ports, informers, c, finishedPodsSweep)
	watch(ctx, informers, sync.trigger, &v1alpha1.SubNet{}, &v1alpha1.IPAMBlock{}, &corev1.Node{})
	steps := nodeSyncSteps{
		initialized: h.Initialized,
		restoring:   vs.FlowRestoreWait,
		restore:     func(ctx context.Context) error { return finishFlowRestore(ctx, flows, vs, &sess) },
		node: func(ctx context.Context) error {
			v, err := readView(ctx, informers)
			if err != nil {
				return err
			}
			addr, err := holdNodeAddress(ctx, alloc, nodeAddrReq, ns.NodeAddress)
			if err != nil {
				return err
			}
			ns.NodeAddress = addr
			return ns.Sync(ctx, v)
		},
		first: func(ctx context.Context) error { // the desired state is complete now
			flows.ReleaseDeletes()
			if _, err := flows.Sync(ctx); err != nil {
				return fmt.Errorf("flows: %w", err)
			}
			return nil
		},
	}
	go sync.run(ctx, func(ctx context.Context) error {
		if err := steps.run(ctx); err != nil {
			h.setNotReady(err.Error())
			return err
		}
		h.setReady()
		return nil
	})
	sync.trigger()

	// the local control API (kubectl kubefay trace/flows/agent status, through pods/exec)
	ctlSocket := filepath.Join(filepath.Dir(cfg.CNISocket), ctl.SocketName)
	if err := ctl.Serve(ctx, ctlSocket, NewControlBackend(ControlDeps{Node: node, NodeIP: nodeIP, Bridge: cfg.Bridge,
		OVSRunDir: cfg.OVSRunDir, Conn: conn, Flows: flows, Ports: ports, Cache: informers, Policies: policies,
		Connected: sess.up.Load, LastSync: h.lastSync,
		Ready: func() (bool, string) { why, _ := h.reason.Load().(string); return h.Ready(), why },
	})); err != nil {
		return fmt.Errorf("control socket %s: %w", ctlSocket, err)
	}

	srv := server.New(handler, server.Options{SocketPath: cfg.CNISocket, Registerer: reg})
	klog.InfoS("kubefay-agent running", "node", node, "nodeIP", nodeIP, "nodeAddress", nodeAddr,
		"mtu", mtu, "bridge", cfg.Bridge, "datapath", cfg.DatapathType, "cniSocket", cfg.CNISocket)
	return srv.Run(ctx)
}

// ipamAdapter narrows pkg/ipam to the CNI handler's Allocator.
type ipamAdapter struct {
	a    *ipam.Allocator
	node string
}

func (i ipamAdapter) Allocate(ctx context.Context, pod PodRef) (Allocation, error) {
	req := ipam.Request{Node: i.node, Namespace: pod.Namespace, Pod: pod.Name, PodUID: pod.UID,
		ContainerID: pod.ContainerID, Interface: pod.Interface, Subnet: pod.Subnet}
	if pod.StaticIP.IsValid() {
		req.StaticIP = pod.StaticIP
	}
	req.Pool = pod.Pool
	r, err := i.a.Allocate(ctx, req)
	if err != nil {
		return Allocation{}, err
	}
	return Allocation{IP: r.Prefix, Gateway: r.Gateway, Subnet: r.Subnet}, nil
}

func (i ipamAdapter) Release(ctx context.Context, containerID, iface string) error {
	return i.a.Release(ctx, containerID, iface)
}
