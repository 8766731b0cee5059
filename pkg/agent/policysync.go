package agent

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/networkpolicy"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
)

// policySync feeds the NetworkPolicy engine from the API (every pod of the
// cluster — peers live anywhere —, namespaces and policies) and keeps the
// engine's flows in the flow syncer. The engine is incremental: an event
// recomputes only the rules it can affect, and only changed flows go to OVS.
type policySync struct {
	node  string
	flows *flowsync.Syncer[*of.Flow]
	loop  *syncLoop

	mu       sync.Mutex
	engine   *networkpolicy.Engine
	pending  time.Time             // oldest event not yet in OVS
	attached map[string]netip.Addr // local pods by CNI ADD: namespace/name -> address

	latency prometheus.Histogram
}

func newPolicySync(node string, flows *flowsync.Syncer[*of.Flow]) *policySync {
	return &policySync{node: node, flows: flows, loop: newSyncLoop(), engine: networkpolicy.NewEngine(node),
		attached: map[string]netip.Addr{},
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubefay_networkpolicy_sync_latency_seconds",
			Help:    "Time from a NetworkPolicy, Pod or Namespace event to the resulting flows being in OVS.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		})}
}

// start loads the engine from the agent's synced cache (the one Pod and
// Namespace watch of the agent, see CacheOptions) before returning, so the
// node's first flow sync already holds the policy flows (no window without
// isolation after an agent restart), then follows changes.
func (p *policySync) start(ctx context.Context, c cache.Cache, notReady func(string)) error {
	kinds := []client.Object{&networkingv1.NetworkPolicy{}, &corev1.Pod{}, &corev1.Namespace{}}
	var regs []toolscache.ResourceEventHandlerRegistration
	for _, o := range kinds {
		inf, err := getInformer(ctx, c, o, notReady)
		if err != nil {
			return fmt.Errorf("informer %T: %w", o, err)
		}
		r, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { p.observe(o, false) },
			UpdateFunc: func(_, o any) { p.observe(o, false) },
			DeleteFunc: func(o any) { p.observe(o, true) },
		})
		if err != nil {
			return err
		}
		regs = append(regs, r)
	}
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("informer caches did not sync")
	}
	// handlers get every cached object replayed asynchronously; wait for
	// that so the engine is complete before the first node sync
	for _, r := range regs {
		for !r.HasSynced() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	p.stage()
	go p.loop.run(ctx, p.apply)
	return nil
}

// observe hands one informer event to the engine and asks for a sync.
func (p *policySync) observe(obj any, deleted bool) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj, deleted = t.Obj, true
	}
	p.mu.Lock()
	switch o := obj.(type) {
	case *networkingv1.NetworkPolicy:
		if deleted {
			p.engine.DeletePolicy(o.Namespace, o.Name)
		} else {
			p.engine.SetPolicy(o)
		}
	case *corev1.Pod:
		key := o.Namespace + "/" + o.Name
		if deleted {
			delete(p.attached, key)
		}
		// a local pod's status may lag its CNI ADD: keep the address the ADD gave
		if ep, ok := enginePod(o, p.attached[key]); ok && !deleted {
			p.engine.SetPod(ep)
		} else {
			p.engine.DeletePod(o.Namespace, o.Name)
		}
	case *corev1.Namespace:
		if deleted {
			p.engine.DeleteNamespace(o.Name)
		} else {
			p.engine.SetNamespace(networkpolicy.Namespace{Name: o.Name, Labels: o.Labels})
		}
	}
	if p.pending.IsZero() {
		p.pending = time.Now()
	}
	p.mu.Unlock()
	p.loop.trigger()
}

// Attach is called by CNI ADD before the pod's own flows are synced: the
// engine learns the pod with its new address and its policy flows are
// staged, so the same bundle installs both.
func (p *policySync) Attach(pod PodRef, ip netip.Addr) {
	ep := networkpolicy.Pod{Namespace: pod.Namespace, Name: pod.Name, Labels: pod.Labels, IP: ip, Node: p.node}
	for _, port := range pod.Ports {
		ep.Ports = append(ep.Ports, networkpolicy.NamedPort{Name: port.Name, Protocol: port.Protocol, Port: port.ContainerPort})
	}
	p.mu.Lock()
	p.attached[pod.Namespace+"/"+pod.Name] = ip
	p.engine.SetPod(ep)
	p.mu.Unlock()
	p.stage()
}

// Detach is called by CNI DEL: the address no longer stands in for the
// pod's status (the informer removes the pod from policy when it is gone).
func (p *policySync) Detach(namespace, name string) {
	p.mu.Lock()
	delete(p.attached, namespace+"/"+name)
	p.mu.Unlock()
}

// stage moves the engine's changes into the flow syncer (not yet to OVS).
func (p *policySync) stage() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	changes := p.engine.Changes()
	for owner, fs := range changes {
		p.flows.Set(owner, fs)
	}
	return len(changes)
}

// apply stages the engine's changes and syncs them to OVS in one bundle.
func (p *policySync) apply(ctx context.Context) error {
	p.mu.Lock()
	since := p.pending
	p.pending = time.Time{}
	p.mu.Unlock()
	n := p.stage()
	st, err := p.flows.Sync(ctx)
	if err != nil {
		return fmt.Errorf("policy flows: %w", err)
	}
	if !since.IsZero() && n > 0 { // events that changed no flow are not programming latency
		p.latency.Observe(time.Since(since).Seconds())
	}
	if n > 0 {
		klog.V(2).InfoS("policy flows synced", "owners", n, "added", st.Added, "modified", st.Modified, "deleted", st.Deleted)
	}
	return nil
}

// enginePod is the engine's view of a pod; pods without an address of their
// own (host network, not yet running, finished) take no part in policy.
// attached, the address the pod's last CNI ADD on this node gave it, wins
// over the status (which lags it, and may still show a previous sandbox's).
func enginePod(p *corev1.Pod, attached netip.Addr) (networkpolicy.Pod, bool) {
	if p.Spec.HostNetwork || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return networkpolicy.Pod{}, false
	}
	ip := attached
	for _, a := range p.Status.PodIPs {
		if x, err := netip.ParseAddr(a.IP); err == nil && x.Is4() && !ip.IsValid() {
			ip = x
			break
		}
	}
	if !ip.IsValid() {
		return networkpolicy.Pod{}, false
	}
	ep := networkpolicy.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: ip, Node: p.Spec.NodeName}
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			ep.Ports = append(ep.Ports, networkpolicy.NamedPort{Name: port.Name, Protocol: port.Protocol, Port: port.ContainerPort})
		}
	}
	return ep, true
}

// Rules implements PolicyNames: the engine's rule and isolation cookies.
func (p *policySync) Rules() []networkpolicy.RuleInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.engine.Rules()
}

// IsolatingPolicies implements PolicyNames.
func (p *policySync) IsolatingPolicies(pod string, dir networkpolicy.Direction) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.engine.IsolatingPolicies(pod, dir)
}
