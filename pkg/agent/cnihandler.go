package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/containerid"
	"github.com/kubefay/kubefay/pkg/netconv"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// PodResolver fills in, from the API, what the CNI request does not carry:
// the pod's subnet (from its namespace), static IP or ip pool (from its
// annotations), labels and ports (apiPodResolver).
type PodResolver func(ctx context.Context, pod *PodRef) error

// PodIfPlumber is podif.Plumber as the CNI handler uses it: it wires,
// checks and unwires pod interfaces (an interface, so tests can fake it).
type PodIfPlumber interface {
	Prepare(ctx context.Context, spec podif.PodIfaceSpec) error
	Configure(ctx context.Context, spec podif.PodIfaceSpec) (*podif.Result, error)
	Teardown(ctx context.Context, hostIfName string) error
	Check(ctx context.Context, spec podif.PodIfaceSpec) error
}

// CNIHandler serves the CNI binary's requests (pkg/cni/server.Handler).
type CNIHandler struct {
	IPAM       Allocator
	Ports      Ports
	Plumber    PodIfPlumber
	Flows      *flowsync.Syncer[*of.Flow]
	ResolvePod PodResolver
	// MTU of pod interfaces; Netdev turns TX checksum offload off in pods.
	MTU    int
	Netdev bool
	// Events reports pod-level failures on the Pod (may be nil).
	Events func(namespace, name, reason, message string)
	// Ready reports whether the node is set up (bridge, gw0, flows).
	Ready func() bool
	// Initialized reports whether the agent has once installed the node's
	// complete state since it started; until then DEL, CHECK and GC are
	// refused too (they would sync flows against a partial desired state).
	Initialized func() bool
	// Policy, when set, learns of the pod and its address before the pod's
	// flows are installed, so that its NetworkPolicy flows go into the
	// same bundle: an isolated pod is isolated from its first packet.
	Policy interface {
		Attach(pod PodRef, ip netip.Addr)
		Detach(namespace, name string)
	}
	// Metrics of ADD phases and failures (may be nil).
	Metrics *AddMetrics

	tearOnce sync.Once
	tear     *teardowns
}

// teardowns returns the handler's background teardowns (see Del).
func (h *CNIHandler) teardowns() *teardowns {
	h.tearOnce.Do(func() { h.tear = &teardowns{onChange: h.Metrics.teardownsPending} })
	return h.tear
}

// Settle waits until the teardowns of answered DELs are done (their veths
// deleted, addresses released), or ctx ends: for a graceful stop, and for
// tests.
func (h *CNIHandler) Settle(ctx context.Context) error { return h.teardowns().drain(ctx) }

// rollbackTimeout bounds the undo of a failed ADD (a hung OVS or API server
// must not hold the container's lock forever; DEL finishes what it misses).
const rollbackTimeout = 30 * time.Second

// podOwner is the flowsync owner key of a pod interface.
func podOwner(containerID, iface string) string { return "pod/" + containerID + "/" + iface }

// Add allocates the pod's address, wires its interface into br-int and
// installs its flows before answering, so the pod has a network when its
// containers start. The address is allocated (an API write) while the veth
// pair and its OVS port, which do not need it, are made; the pair's pod end
// and the port's record are finished with it. A failed ADD leaves nothing
// behind.
//
// ADD waits for the agent's first complete sync only: a later failed sync
// (reported by /readyz) does not stop pods from starting.
func (h *CNIHandler) Add(ctx context.Context, req *api.Request) (res *current.Result, err error) {
	var times addTimes
	stage := addStageNotInitialized
	defer func() { h.Metrics.done(&times, stage, err) }()
	if h.Initialized != nil && !h.Initialized() {
		return nil, api.TryAgainLater("kubefay agent is still setting up the node")
	}
	stage = addStageRequest
	if req.Netns == "" {
		return nil, &types.Error{Code: types.ErrInvalidNetNS, Msg: "ADD without a network namespace (CNI_NETNS)"}
	}
	ifName, hostIf := podIfNames(req)
	start := time.Now()
	if err = h.teardowns().wait(ctx, hostIf); err != nil { // the same container, DEL'd just before
		return nil, api.TryAgainLater("interface %s is still being torn down: %v", hostIf, err)
	}
	pod := PodRef{Namespace: req.Pod.Namespace, Name: req.Pod.Name, UID: req.Pod.UID, ContainerID: req.ContainerID, Interface: ifName}
	if pod.Namespace == "" || pod.Name == "" {
		return nil, &types.Error{Code: types.ErrInvalidEnvironmentVariables, Msg: "CNI_ARGS has no K8S_POD_NAMESPACE / K8S_POD_NAME", Details: req.Args}
	}
	stage = addStagePodInfo
	if h.ResolvePod != nil {
		if err = h.ResolvePod(ctx, &pod); err != nil {
			h.event(pod, "InvalidNetworkRequest", err.Error())
			return nil, err
		}
	}

	var alloc Allocation
	var allocErr error
	allocated := make(chan struct{})
	go func() {
		defer close(allocated)
		s := time.Now()
		alloc, allocErr = h.IPAM.Allocate(ctx, pod)
		times.since(phaseIPAM, s)
	}()
	defer func() {
		<-allocated
		if err != nil { // kubelet may have given up: undo anyway, but not forever
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			h.undo(uctx, pod, hostIf)
		}
	}()
	spec := podif.PodIfaceSpec{NetNSPath: req.Netns, IfName: ifName, HostIfName: hostIf, MTU: h.MTU, DisableTxChecksum: h.Netdev}
	ids := map[string]string{
		ExternalIDOwner: "pod", ExternalIDNamespace: pod.Namespace, ExternalIDPod: pod.Name, ExternalIDPodUID: pod.UID,
		ExternalIDContainerID: req.ContainerID, ExternalIDInterface: ifName,
	}
	stage = addPhases[phaseVeth]
	s := time.Now()
	err = h.Plumber.Prepare(ctx, spec)
	times.since(phaseVeth, s)
	if err != nil {
		return nil, fmt.Errorf("wire %s into the pod: %w", ifName, err)
	}
	stage, s = addPhases[phasePort], time.Now()
	ofport, err := h.Ports.EnsurePodPort(ctx, hostIf, ids)
	times.since(phasePort, s)
	if err != nil {
		return nil, fmt.Errorf("add port %s to the bridge: %w", hostIf, err)
	}

	stage = addPhases[phaseIPAM]
	<-allocated
	if err = allocErr; err != nil {
		h.event(pod, "AddressAllocationFailed", err.Error())
		return nil, err
	}
	spec.IP, spec.Gateway = alloc.IP, alloc.Gateway
	stage, s = addPhases[phaseVeth], time.Now()
	wired, err := h.Plumber.Configure(ctx, spec)
	times.since(phaseVeth, s)
	if err != nil {
		return nil, fmt.Errorf("wire %s into the pod: %w", ifName, err)
	}
	ids[ExternalIDIP], ids[ExternalIDMAC] = alloc.IP.String(), wired.PodMAC.String()
	ids[ExternalIDSubnet], ids[ExternalIDGateway] = alloc.Subnet, alloc.Gateway.String()
	stage, s = addPhases[phasePort], time.Now()
	err = h.Ports.RecordPodPort(ctx, hostIf, ids)
	times.since(phasePort, s)
	if err != nil {
		return nil, fmt.Errorf("record the pod on port %s: %w", hostIf, err)
	}

	if h.Policy != nil {
		h.Policy.Attach(pod, alloc.IP.Addr())
	}
	flows := pipeline.PodFlows(pipeline.Pod{Namespace: pod.Namespace, Name: pod.Name, Interface: ifName,
		OFPort: ofport, MAC: wired.PodMAC, IP: alloc.IP.Addr()})
	stage, s = addPhases[phaseFlows], time.Now()
	_, err = h.Flows.SetAndSync(ctx, podOwner(req.ContainerID, ifName), flows)
	times.since(phaseFlows, s)
	if err != nil {
		return nil, api.TryAgainLater("install flows of %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	klog.InfoS("pod network added", "pod", klog.KRef(pod.Namespace, pod.Name), "container", containerid.Short(req.ContainerID),
		"ip", alloc.IP, "subnet", alloc.Subnet, "port", hostIf, "ofport", ofport, "duration", time.Since(start),
		"tIPAM", times.d[phaseIPAM], "tVeth", times.d[phaseVeth], "tOVSPort", times.d[phasePort], "tFlows", times.d[phaseFlows])
	return result(req, alloc, wired), nil
}

func result(req *api.Request, alloc Allocation, w *podif.Result) *current.Result {
	podIdx := 1
	return &current.Result{
		CNIVersion: current.ImplementedSpecVersion,
		Interfaces: []*current.Interface{
			{Name: w.HostIfName, Mac: w.HostMAC.String()},
			{Name: w.PodIfName, Mac: w.PodMAC.String(), Sandbox: req.Netns},
		},
		IPs: []*current.IPConfig{{
			Interface: &podIdx,
			Address:   *netconv.IPNet(alloc.IP),
			Gateway:   alloc.Gateway.AsSlice(),
		}},
		Routes: []*types.Route{{Dst: net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, GW: alloc.Gateway.AsSlice()}},
	}
}

// undo rolls back a failed ADD, best effort; DEL will finish what it misses.
func (h *CNIHandler) undo(ctx context.Context, pod PodRef, hostIf string) {
	h.Flows.Set(podOwner(pod.ContainerID, pod.Interface), nil)
	if _, err := h.Flows.Sync(ctx); err != nil {
		klog.ErrorS(err, "rollback: remove pod flows", "pod", klog.KRef(pod.Namespace, pod.Name))
	}
	if applied, err := h.Ports.DeletePort(ctx, hostIf); err != nil {
		klog.ErrorS(err, "rollback: delete port", "port", hostIf)
	} else if err := applied(ctx); err != nil {
		klog.ErrorS(err, "rollback: wait for ovs-vswitchd to remove the port", "port", hostIf)
	}
	if err := h.Plumber.Teardown(ctx, hostIf); err != nil {
		klog.ErrorS(err, "rollback: delete veth", "port", hostIf)
	}
	if err := h.IPAM.Release(ctx, pod.ContainerID, pod.Interface); err != nil {
		klog.ErrorS(err, "rollback: release address", "pod", klog.KRef(pod.Namespace, pod.Name))
	}
}

// Del removes the pod's flows, port, veth and address. Everything is
// idempotent: a second DEL, a DEL with an empty netns or for a container the
// agent never saw succeeds.
//
// DEL answers once the pod's flows are removed (no packet of the old
// interface is forwarded any more) and its port's removal is committed to
// OVSDB (a restarted agent does not restore it). Deleting the veth (after
// ovs-vswitchd let go of it) and releasing the address (an API write) run
// after the answer, retried until done; an ADD of the same container waits
// for them. Were the agent to stop in between, the veth goes with the pod's
// network namespace and the next start frees the address (unwiredAddresses).
func (h *CNIHandler) Del(ctx context.Context, req *api.Request) error {
	if err := h.initialized(); err != nil {
		return err
	}
	ifName, hostIf := podIfNames(req)
	start := time.Now()
	h.Flows.Set(podOwner(req.ContainerID, ifName), nil)
	if h.Policy != nil && req.Pod.Namespace != "" {
		h.Policy.Detach(req.Pod.Namespace, req.Pod.Name)
	}
	if _, err := h.Flows.Sync(ctx); err != nil {
		return api.TryAgainLater("remove flows of container %s: %v", containerid.Short(req.ContainerID), err)
	}
	tFlows := time.Since(start)
	applied, err := h.Ports.DeletePort(ctx, hostIf)
	if err != nil {
		return api.TryAgainLater("delete port %s: %v", hostIf, err)
	}
	tOVSPort := time.Since(start) - tFlows
	cid := req.ContainerID
	h.teardowns().start(ctx, hostIf, []any{"pod", req.Pod.String(), "container", containerid.Short(cid)},
		teardownStep{"tVeth", "delete veth", func(ctx context.Context) error {
			wctx, cancel := context.WithTimeout(ctx, vswitchdLetGo)
			if err := applied(wctx); err != nil {
				klog.InfoS("deleting the veth before ovs-vswitchd applied its port's removal", "port", hostIf, "err", err)
			}
			cancel()
			return h.Plumber.Teardown(ctx, hostIf)
		}},
		teardownStep{"tIPAM", "release address", func(ctx context.Context) error { return h.IPAM.Release(ctx, cid, ifName) }},
	)
	klog.InfoS("pod network deleted", "pod", req.Pod.String(), "container", containerid.Short(req.ContainerID), "duration", time.Since(start),
		"tFlows", tFlows, "tOVSPort", tOVSPort)
	return nil
}

// Check verifies the pod's interface against what its port records.
func (h *CNIHandler) Check(ctx context.Context, req *api.Request) error {
	if err := h.initialized(); err != nil {
		return err
	}
	ifName, hostIf := podIfNames(req)
	ports, err := h.Ports.ListPodPorts(ctx)
	if err != nil {
		return api.TryAgainLater("list ports: %v", err)
	}
	for _, p := range ports {
		if p.Name != hostIf {
			continue
		}
		ip, err := netip.ParsePrefix(p.ExternalIDs[ExternalIDIP])
		if err != nil {
			return fmt.Errorf("port %s records no valid IP/prefix", hostIf)
		}
		mac, _ := net.ParseMAC(p.ExternalIDs[ExternalIDMAC])
		gw, _ := netip.ParseAddr(p.ExternalIDs[ExternalIDGateway])
		return h.Plumber.Check(ctx, podif.PodIfaceSpec{NetNSPath: req.Netns, IfName: ifName, HostIfName: hostIf,
			MAC: mac, MTU: h.MTU, IP: ip, Gateway: gw, DisableTxChecksum: h.Netdev})
	}
	return fmt.Errorf("container %s has no kubefay port %s", containerid.Short(req.ContainerID), hostIf)
}

// podIfNames returns the request's pod interface name (DefaultIfName when
// empty) and the name of the interface's host end.
func podIfNames(req *api.Request) (ifName, hostIf string) {
	ifName = req.IfName
	if ifName == "" {
		ifName = podif.DefaultIfName
	}
	return ifName, podif.HostIfName(req.ContainerID, ifName)
}

// initialized refuses a request until the agent knows the node's complete
// state (see Initialized).
func (h *CNIHandler) initialized() error {
	if h.Initialized != nil && !h.Initialized() {
		return api.TryAgainLater("kubefay agent is restoring the node's state after a start")
	}
	return nil
}

// Status is ready once the node is set up.
func (h *CNIHandler) Status(ctx context.Context, req *api.Request) error {
	if h.Ready != nil && !h.Ready() {
		return &types.Error{Code: 50, Msg: "kubefay agent is still setting up the node"}
	}
	return nil
}

// GC deletes pod ports (with their flows, veths and addresses) whose
// attachment is not in valid.
func (h *CNIHandler) GC(ctx context.Context, req *api.Request, valid []types.GCAttachment) error {
	if err := h.initialized(); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, a := range valid {
		keep[a.ContainerID+"/"+a.IfName] = true
	}
	ports, err := h.Ports.ListPodPorts(ctx)
	if err != nil {
		return api.TryAgainLater("list ports: %v", err)
	}
	var errs []error
	for _, p := range ports {
		cid, iface := p.ExternalIDs[ExternalIDContainerID], p.ExternalIDs[ExternalIDInterface]
		if cid == "" || keep[cid+"/"+iface] {
			continue
		}
		if err := h.Del(ctx, &api.Request{Command: api.CommandDel, ContainerID: cid, IfName: iface}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *CNIHandler) event(pod PodRef, reason, msg string) {
	if h.Events != nil {
		h.Events(pod.Namespace, pod.Name, reason, msg)
	}
}
