package agent

import (
	"context"
	"net"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

// restorePods rebuilds the desired flows of the pods attached before this
// agent started, from the external IDs on their OVS ports, so that the
// first sync keeps their flows instead of deleting them. Ports of pods that
// no longer exist are left to the CNI runtime's DEL/GC and to the IPAM
// garbage collector; their flows are not restored.
func restorePods(ctx context.Context, h *CNIHandler, ports Ports, pods client.Reader) error {
	list, err := ports.ListPodPorts(ctx)
	if err != nil {
		return err
	}
	var podList corev1.PodList
	if err := pods.List(ctx, &podList); err != nil {
		return err
	}
	live := map[string]bool{}
	for _, p := range podList.Items {
		live[p.Namespace+"/"+p.Name] = true
	}
	restored, stale := 0, 0
	for _, p := range list {
		ids := p.ExternalIDs
		ip, err1 := netip.ParsePrefix(ids[ExternalIDIP])
		mac, err2 := net.ParseMAC(ids[ExternalIDMAC])
		if err1 != nil || err2 != nil || p.OFPort == 0 {
			klog.InfoS("pod port without usable identity, leaving it to GC", "port", p.Name)
			continue
		}
		if !live[ids[ExternalIDNamespace]+"/"+ids[ExternalIDPod]] {
			stale++
			continue
		}
		h.Flows.Set(podOwner(ids[ExternalIDContainerID], ids[ExternalIDInterface]), pipeline.PodFlows(pipeline.Pod{
			Namespace: ids[ExternalIDNamespace], Name: ids[ExternalIDPod], Interface: ids[ExternalIDInterface],
			OFPort: p.OFPort, MAC: mac, IP: ip.Addr()}))
		restored++
	}
	klog.InfoS("restored pod flows from OVS ports", "restored", restored, "podGone", stale)
	return nil
}
