package cni_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/netconv"
)

// testAgent is a minimal agent for the tests: a trivial address picker over
// one /24 and pkg/agent/podif for the plumbing. Pods named "reject-*" are
// refused with a typed error, pods named "slow-*" never finish their ADD.
type testAgent struct {
	plumber *podif.Plumber
	prefix  string // "10.200.20." -> pods get .2 ... .254, gateway .1

	mu       sync.Mutex
	used     map[byte]bool
	attached map[string]*attachment // key: containerID/ifName
	requests []api.Request
}

type attachment struct {
	ip     netip.Prefix
	hostIf string
	netns  string
	ifName string
}

func newTestAgent(hostNetNS, prefix string) *testAgent {
	return &testAgent{
		plumber:  &podif.Plumber{HostNetNSPath: hostNetNS},
		prefix:   prefix,
		used:     map[byte]bool{},
		attached: map[string]*attachment{},
	}
}

func (a *testAgent) record(req *api.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, *req)
}

func (a *testAgent) recorded() []api.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]api.Request(nil), a.requests...)
}

func (a *testAgent) gateway() netip.Addr { return netip.MustParseAddr(a.prefix + "1") }

// allocate returns the attachment of key, picking an address if new.
func (a *testAgent) allocate(key string, req *api.Request) (*attachment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at, ok := a.attached[key]; ok {
		return at, nil
	}
	for i := byte(2); i < 255; i++ {
		if !a.used[i] {
			a.used[i] = true
			at := &attachment{
				ip:     netip.PrefixFrom(netip.MustParseAddr(fmt.Sprintf("%s%d", a.prefix, i)), 24),
				hostIf: podif.HostIfName(req.ContainerID, req.IfName),
				netns:  req.Netns,
				ifName: req.IfName,
			}
			a.attached[key] = at
			return at, nil
		}
	}
	return nil, types.NewError(types.ErrTryAgainLater, "address pool exhausted", a.prefix+"0/24")
}

func (a *testAgent) release(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at, ok := a.attached[key]; ok {
		delete(a.used, at.ip.Addr().As4()[3])
		delete(a.attached, key)
	}
}

func (a *testAgent) lookup(key string) *attachment {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.attached[key]
}

func key(containerID, ifName string) string { return containerID + "/" + ifName }

func (a *testAgent) spec(at *attachment) podif.PodIfaceSpec {
	return podif.PodIfaceSpec{
		NetNSPath: at.netns, IfName: at.ifName, HostIfName: at.hostIf, MTU: 1450,
		IP: at.ip, Gateway: a.gateway(), DisableTxChecksum: true,
	}
}

// Add implements server.Handler.
func (a *testAgent) Add(ctx context.Context, req *api.Request) (*current.Result, error) {
	a.record(req)
	switch {
	case len(req.Pod.Name) > 7 && req.Pod.Name[:7] == "reject-":
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "pod refused by policy", req.Pod.String())
	case len(req.Pod.Name) > 5 && req.Pod.Name[:5] == "slow-":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	k := key(req.ContainerID, req.IfName)
	at, err := a.allocate(k, req)
	if err != nil {
		return nil, err
	}
	res, err := a.plumber.Configure(ctx, a.spec(at))
	if err != nil {
		a.release(k)
		return nil, err
	}
	return &current.Result{
		CNIVersion: current.ImplementedSpecVersion,
		Interfaces: []*current.Interface{
			{Name: res.HostIfName, Mac: res.HostMAC.String()},
			{Name: res.PodIfName, Mac: res.PodMAC.String(), Sandbox: req.Netns},
		},
		IPs: []*current.IPConfig{{Address: *netconv.IPNet(at.ip),
			Gateway: a.gateway().AsSlice(), Interface: current.Int(1)}},
		Routes: []*types.Route{{Dst: net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, GW: a.gateway().AsSlice()}},
	}, nil
}

// Del implements server.Handler: idempotent, and a container it does not
// know (or a DEL with an empty netns after the first) is success.
func (a *testAgent) Del(ctx context.Context, req *api.Request) error {
	a.record(req)
	k := key(req.ContainerID, req.IfName)
	if a.lookup(k) == nil {
		return nil
	}
	if err := a.plumber.Teardown(ctx, podif.HostIfName(req.ContainerID, req.IfName)); err != nil {
		return err
	}
	a.release(k)
	return nil
}

// Check implements server.Handler.
func (a *testAgent) Check(ctx context.Context, req *api.Request) error {
	a.record(req)
	at := a.lookup(key(req.ContainerID, req.IfName))
	if at == nil {
		return types.NewError(types.ErrUnknownContainer, "unknown container", req.ContainerID)
	}
	return a.plumber.Check(ctx, a.spec(at))
}

// Status implements server.Handler.
func (a *testAgent) Status(_ context.Context, req *api.Request) error {
	a.record(req)
	return nil
}

// GC implements server.Handler: removes every attachment not in valid.
func (a *testAgent) GC(ctx context.Context, req *api.Request, valid []types.GCAttachment) error {
	a.record(req)
	keep := map[string]bool{}
	for _, v := range valid {
		keep[key(v.ContainerID, v.IfName)] = true
	}
	a.mu.Lock()
	var stale []string
	for k := range a.attached {
		if !keep[k] {
			stale = append(stale, k)
		}
	}
	a.mu.Unlock()
	for _, k := range stale {
		if err := a.plumber.Teardown(ctx, a.lookup(k).hostIf); err != nil {
			return err
		}
		a.release(k)
	}
	return nil
}
