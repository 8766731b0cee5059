package agent

import (
	"context"
	"net"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/containerid"
)

// restorePods rebuilds the desired flows of the pods attached before this
// agent started, from the external IDs on their OVS ports, so that the
// first sync keeps their flows instead of deleting them. Ports of pods that
// no longer exist (deleted while the agent was down; a re-created pod with
// the same name has another UID) or finished (Succeeded/Failed) are removed
// with their veth and address.
//
// It returns the DEL requests for the stale ports; the caller runs them after
// the first node sync, so that their flow sync does not race the node flows.
func restorePods(ctx context.Context, node string, h *CNIHandler, ports Ports, pods client.Reader) ([]*api.Request, error) {
	list, err := ports.ListPodPorts(ctx)
	if err != nil {
		return nil, err
	}
	var podList corev1.PodList
	if err := pods.List(ctx, &podList); err != nil {
		return nil, err
	}
	live := map[string]*corev1.Pod{} // namespace/name, this node's
	for i := range podList.Items {
		if p := onNode(&podList.Items[i], node); p != nil {
			live[p.Namespace+"/"+p.Name] = p
		}
	}
	restored := 0
	var stale []*api.Request
	for _, p := range list {
		ids := p.ExternalIDs
		ip, err1 := netip.ParsePrefix(ids[ExternalIDIP])
		mac, err2 := net.ParseMAC(ids[ExternalIDMAC])
		if err1 != nil || err2 != nil || p.OFPort == 0 {
			klog.InfoS("pod port without usable identity, leaving it to GC", "port", p.Name)
			continue
		}
		if podDone(ids, live[ids[ExternalIDNamespace]+"/"+ids[ExternalIDPod]]) != "" {
			stale = append(stale, portDel(ids))
			continue
		}
		h.Flows.Set(podOwner(ids[ExternalIDContainerID], ids[ExternalIDInterface]), pipeline.PodFlows(pipeline.Pod{
			Namespace: ids[ExternalIDNamespace], Name: ids[ExternalIDPod], Interface: ids[ExternalIDInterface],
			OFPort: p.OFPort, MAC: mac, IP: ip.Addr()}))
		restored++
	}
	klog.InfoS("restored pod flows from OVS ports", "restored", restored, "podGone", len(stale))
	return stale, nil
}

// removeStale deletes the ports of gone or finished pods once the node is set up.
func removeStale(ctx context.Context, h *CNIHandler, ready func() bool, stale []*api.Request) {
	if len(stale) == 0 {
		return
	}
	for !ready() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	for _, req := range stale {
		if err := h.Del(ctx, req); err != nil {
			klog.ErrorS(err, "remove the port of a pod that is gone or finished", "container", containerid.Short(req.ContainerID))
		} else {
			klog.InfoS("removed the port of a pod that is gone or finished", "container", containerid.Short(req.ContainerID))
		}
	}
}
