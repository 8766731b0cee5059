package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// FinalizerSubnetInUse is the finalizer the controller puts on every
// SubNet: it is removed only once no pod holds an address of the subnet
// and the subnet's IPAMBlocks are deleted.
const FinalizerSubnetInUse = v1alpha1.GroupName + "/subnet-in-use"

// ReasonDeletionBlocked is the reason of the Ready=False condition of a
// SubNet whose deletion waits for pods to give their addresses back.
const ReasonDeletionBlocked = "DeletionBlocked"

// maxHoldersInMessage bounds the pods named in the DeletionBlocked message.
const maxHoldersInMessage = 5

// DefaultDeletionRecheck is how often a blocked deletion is looked at again
// when no IPAMBlock change triggers it earlier.
const DefaultDeletionRecheck = 10 * time.Second

// DeletionGuard keeps a SubNet from going away while pods hold its
// addresses. It puts FinalizerSubnetInUse on every SubNet; once a SubNet is
// being deleted it either reports who blocks the deletion (condition
// Ready=False, reason DeletionBlocked) or, when only nodes' own addresses
// are left, deletes the subnet's IPAMBlocks and removes the finalizer.
type DeletionGuard struct {
	// Client reads from the cache and writes.
	Client client.Client
	// APIReader lists the blocks straight from the API server before
	// anything is deleted, so that a block the cache has not seen yet is
	// not forgotten.
	APIReader client.Reader
	// Recheck is the requeue delay of a blocked deletion (default
	// DefaultDeletionRecheck).
	Recheck time.Duration
}

// SetupWithManager registers the guard: SubNets, and the SubNet of every
// IPAMBlock that changes.
func (g *DeletionGuard) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("subnet-deletion").
		For(&v1alpha1.SubNet{}).
		Watches(&v1alpha1.IPAMBlock{}, handler.EnqueueRequestsFromMapFunc(subnetOfBlock)).
		Complete(g)
}

// Reconcile adds the finalizer to a live SubNet, or works on the deletion
// of a SubNet being deleted.
func (g *DeletionGuard) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	sn := &v1alpha1.SubNet{}
	if err := g.Client.Get(ctx, req.NamespacedName, sn); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if sn.DeletionTimestamp.IsZero() {
		if controllerutil.ContainsFinalizer(sn, FinalizerSubnetInUse) {
			return reconcile.Result{}, nil
		}
		return g.patchFinalizer(ctx, sn, controllerutil.AddFinalizer)
	}
	if !controllerutil.ContainsFinalizer(sn, FinalizerSubnetInUse) {
		return reconcile.Result{}, nil
	}
	blocks, err := g.blocksOf(ctx, sn.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	if used := PodHolders(blocks); used.IPs > 0 {
		return g.block(ctx, sn, blocks, used)
	}
	// Only nodes' own addresses (if any) are left: deleting the blocks
	// releases them. The resourceVersion precondition makes sure no pod
	// got an address since the blocks were read.
	for _, b := range blocks {
		err := g.Client.Delete(ctx, b, client.Preconditions{UID: &b.UID, ResourceVersion: &b.ResourceVersion})
		switch {
		case apierrors.IsConflict(err):
			return reconcile.Result{Requeue: true}, nil
		case err != nil && !apierrors.IsNotFound(err):
			return reconcile.Result{}, fmt.Errorf("deleting IPAM block %s: %w", b.Name, err)
		}
	}
	// A block claimed meanwhile (by an agent that still saw the subnet)
	// is caught here rather than orphaned.
	if again, err := g.blocksOf(ctx, sn.Name); err != nil || len(again) > 0 {
		return reconcile.Result{Requeue: err == nil}, err
	}
	klog.FromContext(ctx).Info("Deleted the IPAM blocks of a deleted subnet", "subnet", sn.Name, "blocks", len(blocks))
	return g.patchFinalizer(ctx, sn, controllerutil.RemoveFinalizer)
}

// patchFinalizer adds or removes the finalizer with a merge patch guarded
// by the resourceVersion, so that other finalizers are never lost.
func (g *DeletionGuard) patchFinalizer(ctx context.Context, sn *v1alpha1.SubNet, change func(client.Object, string) bool) (reconcile.Result, error) {
	patch := client.MergeFromWithOptions(sn.DeepCopy(), client.MergeFromWithOptimisticLock{})
	change(sn, FinalizerSubnetInUse)
	err := g.Client.Patch(ctx, sn, patch)
	switch {
	case apierrors.IsConflict(err):
		return reconcile.Result{Requeue: true}, nil
	case apierrors.IsNotFound(err):
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, err
}

// block records why the deletion waits, then waits.
func (g *DeletionGuard) block(ctx context.Context, sn *v1alpha1.SubNet, blocks []*v1alpha1.IPAMBlock, used Holders) (reconcile.Result, error) {
	recheck := g.Recheck
	if recheck <= 0 {
		recheck = DefaultDeletionRecheck
	}
	items := make([]v1alpha1.IPAMBlock, len(blocks))
	for i, b := range blocks {
		items[i] = *b
	}
	status := ComputeStatus(sn, items)
	status.Conditions = []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonDeletionBlocked,
		Message: used.Message(), ObservedGeneration: sn.Generation}}
	if equalStatus(sn.Status, status) {
		return reconcile.Result{RequeueAfter: recheck}, nil
	}
	for _, c := range status.Conditions {
		meta.SetStatusCondition(&sn.Status.Conditions, c)
	}
	conds := sn.Status.Conditions
	sn.Status = status
	sn.Status.Conditions = conds
	if err := g.Client.Status().Update(ctx, sn); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return reconcile.Result{Requeue: true}, nil
		}
		return reconcile.Result{}, err
	}
	klog.FromContext(ctx).Info("Deletion of a subnet blocked by pods", "subnet", sn.Name, "message", used.Message())
	return reconcile.Result{RequeueAfter: recheck}, nil
}

// blocksOf lists a subnet's IPAMBlocks from the API server.
func (g *DeletionGuard) blocksOf(ctx context.Context, subnet string) ([]*v1alpha1.IPAMBlock, error) {
	items, err := ipam.ListSubnetBlocks(ctx, g.APIReader, subnet)
	if err != nil {
		return nil, fmt.Errorf("listing the IPAM blocks of subnet %q: %w", subnet, err)
	}
	out := make([]*v1alpha1.IPAMBlock, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out, nil
}

// Holders counts the addresses pods hold and names the pods.
type Holders struct {
	// IPs counts addresses with a pod as holder.
	IPs int
	// Pods are the holders as namespace/name, sorted, without repeats.
	Pods []string
}

// PodHolders returns the addresses held by pods in blocks. Allocations
// without a pod (a node's own address) are not counted.
func PodHolders(blocks []*v1alpha1.IPAMBlock) Holders {
	var h Holders
	seen := map[string]bool{}
	for _, b := range blocks {
		for _, al := range b.Spec.Allocations {
			if al.Pod == "" {
				continue
			}
			h.IPs++
			key := al.Namespace + "/" + al.Pod
			if !seen[key] {
				seen[key] = true
				h.Pods = append(h.Pods, key)
			}
		}
	}
	sort.Strings(h.Pods)
	return h
}

// Message is the DeletionBlocked condition's message, naming at most
// maxHoldersInMessage pods.
func (h Holders) Message() string {
	names := h.Pods
	more := ""
	if len(names) > maxHoldersInMessage {
		more = fmt.Sprintf(" and %d more", len(names)-maxHoldersInMessage)
		names = names[:maxHoldersInMessage]
	}
	return fmt.Sprintf("deletion blocked: %d IP(s) in use by %d pod(s): %s%s", h.IPs, len(h.Pods), strings.Join(names, ", "), more)
}
