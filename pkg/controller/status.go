package controller

import (
	"context"
	"net/netip"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// ConditionReady is the SubNet condition telling whether its spec is usable.
const ConditionReady = "Ready"

// StatusReconciler keeps SubNet status in line with the IPAMBlocks: the
// effective gateway, used and available counts, and the first
// v1alpha1.MaxUsedIPsInStatus used addresses.
type StatusReconciler struct {
	Client client.Client
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
		For(&v1alpha1.SubNet{}).
		Watches(&v1alpha1.IPAMBlock{}, handler.EnqueueRequestsFromMapFunc(subnetOfBlock)).
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
	blocks := &v1alpha1.IPAMBlockList{}
	if err := r.Client.List(ctx, blocks); err != nil {
		return reconcile.Result{}, err
	}
	status := ComputeStatus(sn, blocks.Items)
	subnets := &v1alpha1.SubNetList{}
	if err := r.Client.List(ctx, subnets); err != nil {
		return reconcile.Result{}, err
	}
	if other := ipam.Overlap(sn, subnets.Items); other != nil {
		status.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: "Overlap",
			Message: ipam.OverlapMessage(sn, other), ObservedGeneration: sn.Generation}}
	}
	if equalStatus(sn.Status, status) {
		return reconcile.Result{}, nil
	}
	for _, c := range status.Conditions {
		meta.SetStatusCondition(&sn.Status.Conditions, c)
	}
	conds := sn.Status.Conditions
	sn.Status = status
	sn.Status.Conditions = conds
	if err := r.Client.Status().Update(ctx, sn); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return reconcile.Result{Requeue: true}, nil
		}
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
		ip netip.Addr
		v1alpha1.UsedIP
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
			all = append(all, used{ip: a, UsedIP: v1alpha1.UsedIP{IP: ip, Node: al.Node, Namespace: al.Namespace, Pod: al.Pod, ContainerID: al.ContainerID, Interface: al.Interface}})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ip.Less(all[j].ip) })
	st.Used = int64(len(all))
	st.Available = max(parsed.Capacity()-st.Used, 0)
	for i := 0; i < len(all) && i < v1alpha1.MaxUsedIPsInStatus; i++ {
		st.UsedIPs = append(st.UsedIPs, all[i].UsedIP)
	}
	st.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionTrue, Reason: "Valid", Message: "the subnet's spec is valid", ObservedGeneration: sn.Generation}}
	return st
}

// equalStatus compares everything but the conditions' timestamps.
func equalStatus(cur, want v1alpha1.SubNetStatus) bool {
	if cur.Gateway != want.Gateway || cur.Used != want.Used || cur.Available != want.Available || !equality.Semantic.DeepEqual(cur.UsedIPs, want.UsedIPs) {
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
