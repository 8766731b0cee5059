package agent

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// WatchedKinds are what the agent's one informer cache watches, one watch
// each: the datapath's view (SubNets, IPAMBlocks, Nodes), and NetworkPolicy
// with every pod and namespace of the cluster (policy peers live anywhere;
// the CNI path and the port sweeps read this node's pods from the same
// cache and skip the others).
func WatchedKinds() []client.Object {
	return []client.Object{&v1alpha1.SubNet{}, &v1alpha1.IPAMBlock{}, &corev1.Node{},
		&corev1.Pod{}, &corev1.Namespace{}, &networkingv1.NetworkPolicy{}}
}

// CacheOptions configures the agent's informer cache: pods are cached
// slimmed (SlimPod).
func CacheOptions(scheme *runtime.Scheme) cache.Options {
	return cache.Options{Scheme: scheme, ByObject: map[client.Object]cache.ByObject{
		&corev1.Pod{}: {Transform: SlimPod},
	}}
}

// SlimPod is the pod informer's transform: it keeps what the agent reads —
// identity, labels, node, phase, addresses and container ports (policy),
// kubefay's address annotations and the controller reference (the CNI
// path: static IP, ip pool, StatefulSet ordinal) — and drops the rest
// (most of a pod's bytes) from a cache that holds every pod of the cluster.
func SlimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, Labels: p.Labels,
			ResourceVersion: p.ResourceVersion, DeletionTimestamp: p.DeletionTimestamp},
		Spec:   corev1.PodSpec{NodeName: p.Spec.NodeName, HostNetwork: p.Spec.HostNetwork},
		Status: corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs},
	}
	for _, keys := range [][]string{v1alpha1.PodIPv4Annotations, v1alpha1.PodIPPoolAnnotations} {
		for _, k := range keys {
			if v, ok := p.Annotations[k]; ok {
				if out.Annotations == nil {
					out.Annotations = map[string]string{}
				}
				out.Annotations[k] = v
			}
		}
	}
	if ref := metav1.GetControllerOf(p); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	for _, c := range p.Spec.Containers {
		if len(c.Ports) > 0 {
			out.Spec.Containers = append(out.Spec.Containers, corev1.Container{Name: c.Name, Ports: c.Ports})
		}
	}
	return out, nil
}
