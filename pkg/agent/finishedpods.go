package agent

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/cni/api"
)

// finishedPodsSweep is how often the agent looks for ports of finished or
// gone pods (kubelet's own DEL normally removes them first).
const finishedPodsSweep = 2 * time.Minute

// podDone says why the pod a port was made for no longer needs it: gone
// (nil, or re-created with another UID) or finished (Succeeded/Failed: its
// containers never run again). "" when it still does.
func podDone(ids map[string]string, p *corev1.Pod) string {
	switch {
	case p == nil:
		return "pod gone"
	case ids[ExternalIDPodUID] != "" && ids[ExternalIDPodUID] != string(p.UID):
		return "pod re-created"
	case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
		return "pod finished"
	}
	return ""
}

// portDel is the CNI DEL that removes a pod port, its veth and its address.
func portDel(ids map[string]string) *api.Request {
	return &api.Request{Command: api.CommandDel, ContainerID: ids[ExternalIDContainerID], IfName: ids[ExternalIDInterface]}
}

// finishedPorts lists the DELs for this node's ports whose pods are done.
// Candidates come from the cache and are confirmed against the API server
// (a pod the cache has not seen yet keeps its port).
func finishedPorts(ctx context.Context, node string, ports Ports, cache, apiReader client.Reader) ([]*api.Request, error) {
	list, err := ports.ListPodPorts(ctx)
	if err != nil {
		return nil, err
	}
	var dels []*api.Request
	for _, port := range list {
		ids := port.ExternalIDs
		key := client.ObjectKey{Namespace: ids[ExternalIDNamespace], Name: ids[ExternalIDPod]}
		if key.Name == "" || ids[ExternalIDContainerID] == "" {
			continue
		}
		if podDone(ids, onNode(getPod(ctx, cache, key), node)) == "" {
			continue
		}
		var p corev1.Pod
		err := apiReader.Get(ctx, key, &p)
		switch {
		case apierrors.IsNotFound(err):
			klog.InfoS("port of a pod that is gone", "pod", key, "port", port.Name)
		case err != nil:
			return dels, err
		default:
			why := podDone(ids, &p)
			if why == "" {
				continue
			}
			klog.InfoS("port of a pod that no longer needs it", "pod", key, "port", port.Name, "reason", why)
		}
		dels = append(dels, portDel(ids))
	}
	return dels, nil
}

// getPod reads a pod from r, nil when it is not there (or cannot be read).
func getPod(ctx context.Context, r client.Reader, key client.ObjectKey) *corev1.Pod {
	var p corev1.Pod
	if err := r.Get(ctx, key, &p); err != nil {
		return nil
	}
	return &p
}

// onNode returns p when it is scheduled to node, else nil: the agent's cache
// holds every pod of the cluster, and a port only ever serves a pod of its
// own node (a pod of the same name elsewhere is not it).
func onNode(p *corev1.Pod, node string) *corev1.Pod {
	if p == nil || p.Spec.NodeName != node {
		return nil
	}
	return p
}

// sweepFinishedPods removes, every interval, the ports and addresses of pods
// that finished or went away while their CNI DEL never came (kubelet gave up,
// the agent was down): a completed Job pod's object stays, so nothing else
// would ever free its address.
func sweepFinishedPods(ctx context.Context, node string, h *CNIHandler, ports Ports, cache, apiReader client.Reader, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !h.Initialized() {
			continue
		}
		dels, err := finishedPorts(ctx, node, ports, cache, apiReader)
		if err != nil {
			klog.ErrorS(err, "sweep of finished pods' ports")
		}
		removeStale(ctx, h, h.Initialized, dels)
	}
}
