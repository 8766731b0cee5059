// Package agent is kubefay's node agent: it sets up br-int, gw0 and tun0,
// serves the CNI binary's requests, and keeps the node's flows, addresses,
// routes and NAT rules equal to what the API says (SubNets, IPAMBlocks,
// Nodes), re-applying everything after ovs-vswitchd or the agent restarts.
package agent

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/agent/flowsync"
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
	a := &nodeAgent{node: node, started: time.Now(), cfg: cfg, h: &health{}, reg: newRegistry(), sync: newSyncLoop(), syncs: newSyncDurations()}
	a.h.setNotReady("starting")
	a.reg.MustRegister(a.syncs.h)
	if err := serveHTTP(ctx, cfg.MetricsAddr, a.h.handler(a.reg)); err != nil {
		return fmt.Errorf("metrics/health server on %s: %w", cfg.MetricsAddr, err)
	}
	if err := a.connectAPI(ctx); err != nil {
		return err
	}
	if err := a.detectMTU(ctx); err != nil {
		return err
	}
	ovs, err := ovsdb.Dial(ctx, "unix:"+filepath.Join(cfg.OVSRunDir, "db.sock"), ovsdb.Options{})
	if err != nil {
		return fmt.Errorf("ovsdb: %w", err)
	}
	defer ovs.Close()
	if err := a.setUpBridge(ctx, ovs); err != nil {
		return err
	}
	// the node's address in the default subnet (on gw0, source of host->pod traffic)
	a.nodeAddrReq = ipam.Request{Subnet: cfg.DefaultSubnet, Node: node,
		ContainerID: v1alpha1.NodeAddressContainerIDPrefix + node, Interface: cfg.GatewayPort}
	if a.nodeAddr, err = firstNodeAddress(ctx, a.alloc, a.nodeAddrReq, 2*time.Second, a.h.setNotReady); err != nil {
		return err
	}
	if err := a.connectOpenFlow(ctx); err != nil {
		return err
	}
	defer a.conn.Close()
	if err := a.startPolicy(ctx); err != nil {
		return err
	}
	handler, err := a.startNodeSync(ctx)
	if err != nil {
		return err
	}
	if err := a.serveControl(ctx); err != nil {
		return err
	}
	srv := server.New(handler, server.Options{SocketPath: cfg.CNISocket, Registerer: a.reg})
	klog.InfoS("kubefay-agent running", "node", node, "nodeIP", a.nodeIP, "nodeAddress", a.nodeAddr,
		"mtu", a.mtu, "bridge", cfg.Bridge, "datapath", cfg.DatapathType, "cniSocket", cfg.CNISocket)
	err = srv.Run(ctx)
	// a graceful stop lets the teardowns of answered DELs finish
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := handler.Settle(sctx); serr != nil {
		klog.InfoS("stopping with pod teardowns still running", "err", serr)
	}
	return err
}

// nodeAgent is what Run builds, phase by phase; the comments in it name the
// phase that sets the fields below them.
type nodeAgent struct {
	node    string
	started time.Time
	cfg     config.Agent
	h       *health
	reg     *prometheus.Registry
	sync    *syncLoop // the node sync: flows and host network
	syncs   *syncDurations

	// connectAPI
	c         client.Client // direct, for writes and fresh reads
	informers cache.Cache   // the one informer cache (CacheOptions)
	alloc     *ipam.Allocator
	// detectMTU, setUpBridge
	nodeIP netip.Addr
	mtu    int
	vs     *ovsdb.VSwitch
	gw     *net.Interface
	ports  ovsPorts
	// Run: the node address
	nodeAddrReq ipam.Request
	nodeAddr    netip.Addr
	// connectOpenFlow
	conn  *of.Conn
	sess  ofSession
	flows *flowsync.Syncer[*of.Flow]
	// startPolicy
	policies *policySync
}
