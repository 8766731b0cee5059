package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// ConditionReady is the SubNet condition telling whether its spec is usable.
const ConditionReady = "Ready"

// ConditionProgrammed is the SubNet condition telling whether every node
// serves it: False when a node's agent reports it cannot (its Node's
// v1alpha1.NodeSubnetProblemsAnnotation names the SubNet, e.g. a foreign
// route holds its CIDR), naming each such node and its problem.
const ConditionProgrammed = "Programmed"

// Bounds of the Programmed condition's message: the nodes listed, the
// length of one node's problem, and the whole message.
const (
	maxProgrammedNodes   = 10
	maxProblemLen        = 300
	maxProgrammedMessage = 4096
)

// statusWorkers is how many SubNets' status the reconciler writes at once.
const statusWorkers = 4

// StatusReconciler keeps SubNet status in line with the IPAMBlocks: the
// effective gateway, used and available counts, a one-line summary and the
// first v1alpha1.MaxUsedIPsInStatus used addresses, one line each.
type StatusReconciler struct {
	Client client.Client
	// APIReader reads a SubNet from the API server when a status write
	// conflicts (may be nil: the reconciler then retries later).
	APIReader client.Reader
	// MinInterval is the least time between two status writes of a SubNet.
	MinInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu        sync.Mutex
	lastWrite map[string]time.Time
}

// SetupWithManager registers the reconciler: SubNets, and the SubNet of
// every IPAMBlock that changes.
func (r *StatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("subnet-status").
		// Status writes are API round trips: after a restart every SubNet
		// is written once, a few at a time.
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: statusWorkers}).
		For(&v1alpha1.SubNet{}).
		Watches(&v1alpha1.IPAMBlock{}, handler.EnqueueRequestsFromMapFunc(subnetOfBlock)).
		WatchesMetadata(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(subnetsOfNode), builder.WithPredicates(problemsChanged)).
		Complete(r)
}

// Reconcile recomputes one SubNet's status and writes it if it changed.
func (r *StatusReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if wait := r.untilNextWrite(req.Name, now()); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	sn := &v1alpha1.SubNet{}
	if err := r.Client.Get(ctx, req.NamespacedName, sn); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !sn.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil // the DeletionGuard owns its status now
	}
	// The lists below are only read: the cache's objects are not copied.
	blocks, err := ipam.ListSubnetBlocks(ctx, r.Client, sn.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	status := ComputeStatus(sn, blocks)
	subnets := &v1alpha1.SubNetList{}
	if err := r.Client.List(ctx, subnets, client.UnsafeDisableDeepCopy); err != nil {
		return reconcile.Result{}, err
	}
	if other := ipam.Overlap(sn, subnets.Items); other != nil {
		status.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: "Overlap",
			Message: ipam.OverlapMessage(sn, other), ObservedGeneration: sn.Generation}}
	}
	nodes := &metav1.PartialObjectMetadataList{}
	nodes.SetGroupVersionKind(nodeGVK.GroupVersion().WithKind("NodeList"))
	if err := r.Client.List(ctx, nodes, client.UnsafeDisableDeepCopy); err != nil {
		return reconcile.Result{}, err
	}
	status.Conditions = append(status.Conditions, ProgrammedCondition(sn, nodes.Items))
	if equalStatus(sn.Status, status) {
		return reconcile.Result{}, nil
	}
	err = r.writeStatus(ctx, sn, status)
	if apierrors.IsConflict(err) && r.APIReader != nil {
		// The cache has not seen the last write yet (it lags under a burst
		// of block writes): retry once on the API server's copy instead of
		// requeueing with a backoff that grows with every conflict.
		fresh := &v1alpha1.SubNet{}
		if err = r.APIReader.Get(ctx, req.NamespacedName, fresh); err == nil {
			if !fresh.DeletionTimestamp.IsZero() {
				return reconcile.Result{}, nil
			}
			err = r.writeStatus(ctx, fresh, status)
		}
	}
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return reconcile.Result{RequeueAfter: statusConflictRetry}, nil
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	r.mu.Lock()
	if r.lastWrite == nil {
		r.lastWrite = map[string]time.Time{}
	}
	r.lastWrite[req.Name] = now()
	r.mu.Unlock()
	return reconcile.Result{}, nil
}

// statusConflictRetry is when a SubNet whose status write conflicted twice
// is tried again (a fixed delay: the rate limiter's exponential backoff
// reached tens of seconds under a burst at 1000 nodes).
const statusConflictRetry = 500 * time.Millisecond

// writeStatus writes status (conditions merged into sn's) to sn.
func (r *StatusReconciler) writeStatus(ctx context.Context, sn *v1alpha1.SubNet, status v1alpha1.SubNetStatus) error {
	for _, c := range status.Conditions {
		meta.SetStatusCondition(&sn.Status.Conditions, c)
	}
	conds := sn.Status.Conditions
	sn.Status = status
	sn.Status.Conditions = conds
	return r.Client.Status().Update(ctx, sn)
}

func (r *StatusReconciler) untilNextWrite(name string, now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	last, ok := r.lastWrite[name]
	if !ok {
		return 0
	}
	return last.Add(r.MinInterval).Sub(now)
}

// ComputeStatus derives a SubNet's status from all IPAMBlocks (those of
// other subnets are ignored). Conditions carry no timestamps: the caller
// merges them with meta.SetStatusCondition.
func ComputeStatus(sn *v1alpha1.SubNet, blocks []v1alpha1.IPAMBlock) v1alpha1.SubNetStatus {
	var st v1alpha1.SubNetStatus
	parsed, err := ipam.ParseSubnet(sn)
	if err != nil {
		st.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: "InvalidSpec", Message: err.Error(), ObservedGeneration: sn.Generation}}
		return st
	}
	st.Gateway = parsed.Gateway.String()
	type used struct {
		addr netip.Addr
		usedAddress
	}
	var all []used
	for i := range blocks {
		b := &blocks[i]
		if b.Spec.Subnet != sn.Name {
			continue
		}
		for ip, al := range b.Spec.Allocations {
			a, err := netip.ParseAddr(ip)
			if err != nil || !parsed.CIDR.Contains(a) {
				continue
			}
			all = append(all, used{addr: a, usedAddress: usedAddress{ip: ip, a: al}})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].addr.Less(all[j].addr) })
	st.Used = int64(len(all))
	st.Available = max(parsed.Capacity()-st.Used, 0)
	addrs := make([]usedAddress, len(all))
	for i := range all {
		addrs[i] = all[i].usedAddress
	}
	listed := min(len(addrs), v1alpha1.MaxUsedIPsInStatus)
	st.PoolStatus = poolSummary(addrs, parsed.Capacity(), st.Available, listed)
	if listed > 0 {
		st.UsedPool = poolLines(addrs[:listed])
	}
	st.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: "Valid", Message: "the subnet's spec is valid", ObservedGeneration: sn.Generation}}
	return st
}

// ProgrammedCondition says whether any of nodes reports a problem with sn
// in its v1alpha1.NodeSubnetProblemsAnnotation (an unreadable annotation is
// ignored). The message lists "node: problem" sorted by node, bounded.
func ProgrammedCondition(sn *v1alpha1.SubNet, nodes []metav1.PartialObjectMetadata) metav1.Condition {
	type problem struct{ node, msg string }
	var problems []problem
	for i := range nodes {
		if msg, ok := nodeProblems(&nodes[i])[sn.Name]; ok {
			problems = append(problems, problem{nodes[i].Name, msg})
		}
	}
	if len(problems) == 0 {
		return metav1.Condition{Type: ConditionProgrammed, Status: metav1.ConditionTrue, Reason: "AllNodes",
			Message: "no node reports a problem with this subnet", ObservedGeneration: sn.Generation}
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].node < problems[j].node })
	var b strings.Builder
	fmt.Fprintf(&b, "%d node(s) cannot serve this subnet (its pods there are unreachable from the node): ", len(problems))
	for i, p := range problems {
		if i == maxProgrammedNodes {
			fmt.Fprintf(&b, "; and %d more node(s)", len(problems)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		msg := p.msg
		if len(msg) > maxProblemLen {
			msg = msg[:maxProblemLen] + "..."
		}
		b.WriteString(p.node + ": " + msg)
	}
	m := b.String()
	if len(m) > maxProgrammedMessage { // long node names
		m = m[:maxProgrammedMessage-3] + "..."
	}
	return metav1.Condition{Type: ConditionProgrammed, Status: metav1.ConditionFalse, Reason: "RouteConflict",
		Message: strings.ToValidUTF8(m, ""), ObservedGeneration: sn.Generation}
}

// nodeProblems reads a Node's v1alpha1.NodeSubnetProblemsAnnotation
// (nil when absent or unreadable).
func nodeProblems(o metav1.Object) map[string]string {
	v, ok := o.GetAnnotations()[v1alpha1.NodeSubnetProblemsAnnotation]
	if !ok {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil
	}
	return m
}

// subnetsOfNode maps a Node event to the SubNets its agent reports a
// problem with (for an update it is called with the old and the new Node,
// so a SubNet whose problem is gone is recomputed too).
func subnetsOfNode(_ context.Context, o client.Object) []reconcile.Request {
	var out []reconcile.Request
	for name := range nodeProblems(o) {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// problemsChanged lets through Node updates that change the subnet
// problems annotation only (not the kubelet's status heartbeats).
var problemsChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	if e.ObjectOld == nil || e.ObjectNew == nil {
		return true
	}
	return e.ObjectOld.GetAnnotations()[v1alpha1.NodeSubnetProblemsAnnotation] != e.ObjectNew.GetAnnotations()[v1alpha1.NodeSubnetProblemsAnnotation]
}}

// equalStatus compares everything but the conditions' timestamps.
func equalStatus(cur, want v1alpha1.SubNetStatus) bool {
	if cur.Gateway != want.Gateway || cur.Used != want.Used || cur.Available != want.Available || cur.PoolStatus != want.PoolStatus ||
		!equality.Semantic.DeepEqual(cur.UsedPool, want.UsedPool) || len(cur.UsedIPs) > 0 {
		return false
	}
	for _, w := range want.Conditions {
		c := meta.FindStatusCondition(cur.Conditions, w.Type)
		if c == nil || c.Status != w.Status || c.Reason != w.Reason || c.Message != w.Message || c.ObservedGeneration != w.ObservedGeneration {
			return false
		}
	}
	return true
}

// subnetOfBlock maps an IPAMBlock event to its SubNet.
func subnetOfBlock(_ context.Context, o client.Object) []reconcile.Request {
	b, ok := o.(*v1alpha1.IPAMBlock)
	if !ok || b.Spec.Subnet == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: b.Spec.Subnet}}}
}
