package datapath

import (
	"context"
	"fmt"
	"net/netip"
	"sync"

	"github.com/kubefay/kubefay/pkg/agent"
)

// memAllocator is an in-memory agent.Allocator: sequential addresses from
// first within prefix, idempotent per container ID + interface.
type memAllocator struct {
	prefix  netip.Prefix
	gateway netip.Addr
	first   netip.Addr
	subnet  string

	mu    sync.Mutex
	byKey map[string]netip.Addr
	used  map[netip.Addr]bool
}

func newMemAllocator(first, gateway netip.Addr, prefix netip.Prefix, subnet string) *memAllocator {
	return &memAllocator{prefix: prefix, gateway: gateway, first: first, subnet: subnet,
		byKey: map[string]netip.Addr{}, used: map[netip.Addr]bool{}}
}

func (a *memAllocator) Allocate(_ context.Context, pod agent.PodRef) (agent.Allocation, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := pod.ContainerID + "/" + pod.Interface
	ip, ok := a.byKey[key]
	if !ok {
		for c := a.first; a.prefix.Contains(c); c = c.Next() {
			if !a.used[c] && c != a.gateway {
				ip, ok = c, true
				break
			}
		}
		if !ok {
			return agent.Allocation{}, fmt.Errorf("no free address in %s", a.prefix)
		}
		a.byKey[key], a.used[ip] = ip, true
	}
	return agent.Allocation{IP: netip.PrefixFrom(ip, a.prefix.Bits()), Gateway: a.gateway, Subnet: a.subnet}, nil
}

func (a *memAllocator) Release(_ context.Context, containerID, iface string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := containerID + "/" + iface
	if ip, ok := a.byKey[key]; ok {
		delete(a.used, ip)
		delete(a.byKey, key)
	}
	return nil
}
