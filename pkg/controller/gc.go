package controller

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

var (
	podGVK  = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	nodeGVK = schema.GroupVersionKind{Version: "v1", Kind: "Node"}
)

// GarbageCollector frees what nobody will release any more:
//   - allocations of pods that no longer exist (or exist as another pod of
//     the same name, with another UID);
//   - allocations without a pod (a node's own address) of nodes that no
//     longer exist;
//   - empty blocks of nodes that no longer exist;
//   - blocks of SubNets that no longer exist or were re-created with a CIDR
//     that does not hold them, once no live pod uses them.
//
// Candidates are found in the cache and confirmed against the API server
// before anything is freed, and allocations younger than Grace are left
// alone: a pod is never robbed of the address of a live pod, nor of one it
// is being given right now.
type GarbageCollector struct {
	// Client reads from the cache (metadata-only for pods and nodes works).
	Client client.Client
	// APIReader reads straight from the API server, to confirm.
	APIReader client.Reader
	// IPAM writes the releases (with optimistic concurrency).
	IPAM *ipam.Allocator
	// Interval between passes, Grace for young allocations.
	Interval, Grace time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// GCStats counts what one pass did.
type GCStats struct {
	// Released allocations and Deleted blocks.
	Released, Deleted int
}

// Start runs a pass every Interval until ctx ends (manager.Runnable).
func (g *GarbageCollector) Start(ctx context.Context) error {
	log := klog.FromContext(ctx).WithName("ipam-gc")
	t := time.NewTicker(g.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st, err := g.RunOnce(ctx)
		if err != nil {
			log.Error(err, "IPAM garbage collection pass failed")
		}
		if st.Released > 0 || st.Deleted > 0 {
			log.Info("IPAM garbage collection", "releasedAllocations", st.Released, "deletedBlocks", st.Deleted)
		}
		gcReleased.Add(float64(st.Released))
		gcDeleted.Add(float64(st.Deleted))
	}
}

// NeedLeaderElection: only the active replica collects.
func (g *GarbageCollector) NeedLeaderElection() bool { return true }

// RunOnce makes one pass over all blocks.
func (g *GarbageCollector) RunOnce(ctx context.Context) (GCStats, error) {
	var st GCStats
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	blocks := &v1alpha1.IPAMBlockList{}
	if err := g.Client.List(ctx, blocks); err != nil {
		return st, err
	}
	pods, err := g.listUIDs(ctx, podGVK)
	if err != nil {
		return st, err
	}
	nodes, err := g.listUIDs(ctx, nodeGVK)
	if err != nil {
		return st, err
	}
	subnets, err := g.subnetCIDRs(ctx)
	if err != nil {
		return st, err
	}
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for i := range blocks.Items {
		b := &blocks.Items[i]
		if now().Sub(b.CreationTimestamp.Time) >= g.Grace {
			outside, err := g.outsideSubnet(ctx, b, subnets)
			keep(err)
			if outside {
				deleted, err := g.deleteOutsideBlock(ctx, b, pods, nodes)
				keep(err)
				if deleted {
					st.Deleted++
				}
				continue
			}
		}
		stale := map[string]string{} // ip -> container ID
		for ip, al := range b.Spec.Allocations {
			if !al.Created.IsZero() && now().Sub(al.Created.Time) < g.Grace {
				continue
			}
			gone, err := g.holderGone(ctx, al, pods, nodes)
			keep(err)
			if gone {
				stale[ip] = al.ContainerID
			}
		}
		if len(stale) > 0 {
			freed, err := g.IPAM.ReleaseIn(ctx, b, func(ip string, al v1alpha1.Allocation) bool {
				id, ok := stale[ip]
				return ok && id == al.ContainerID
			})
			keep(err)
			st.Released += len(freed)
			continue // delete the block on a later pass, from a fresh copy
		}
		if len(b.Spec.Allocations) == 0 {
			deleted, err := g.deleteOrphanBlock(ctx, b, nodes)
			keep(err)
			if deleted {
				st.Deleted++
			}
		}
	}
	return st, firstErr
}

// holderGone reports whether the holder of an allocation is confirmed gone.
func (g *GarbageCollector) holderGone(ctx context.Context, al v1alpha1.Allocation, pods, nodes map[string]string) (bool, error) {
	if al.Pod != "" {
		key := al.Namespace + "/" + al.Pod
		if uid, ok := pods[key]; ok && (al.PodUID == "" || uid == al.PodUID) {
			return false, nil
		}
		uid, exists, err := g.confirm(ctx, podGVK, al.Namespace, al.Pod)
		if err != nil || (exists && (al.PodUID == "" || uid == al.PodUID)) {
			return false, err
		}
		return true, nil
	}
	if al.Node == "" {
		return false, nil // unknown owner: leave it to a human
	}
	if _, ok := nodes[al.Node]; ok {
		return false, nil
	}
	_, exists, err := g.confirm(ctx, nodeGVK, "", al.Node)
	return err == nil && !exists, err
}

func (g *GarbageCollector) deleteOrphanBlock(ctx context.Context, b *v1alpha1.IPAMBlock, nodes map[string]string) (bool, error) {
	if _, ok := nodes[b.Spec.Node]; ok {
		return false, nil
	}
	if _, exists, err := g.confirm(ctx, nodeGVK, "", b.Spec.Node); err != nil || exists {
		return false, err
	}
	err := g.Client.Delete(ctx, b, client.Preconditions{UID: &b.UID, ResourceVersion: &b.ResourceVersion})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return false, nil // gone already, or written since: next pass
	}
	return err == nil, err
}

// listUIDs returns namespace/name (or name) -> UID of all objects of a kind,
// read as metadata only.
func (g *GarbageCollector) listUIDs(ctx context.Context, gvk schema.GroupVersionKind) (map[string]string, error) {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := g.Client.List(ctx, l); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(l.Items))
	for _, o := range l.Items {
		key := o.Name
		if o.Namespace != "" {
			key = o.Namespace + "/" + o.Name
		}
		out[key] = string(o.UID)
	}
	return out, nil
}

// confirm reads an object's metadata from the API server.
func (g *GarbageCollector) confirm(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (uid string, exists bool, err error) {
	o := &metav1.PartialObjectMetadata{}
	o.SetGroupVersionKind(gvk)
	err = g.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, o)
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", true, err
	}
	return string(o.UID), true, nil
}
