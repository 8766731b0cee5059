package agent

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/ipam"
)

func firstAnnotation(ann map[string]string, keys []string) (string, string) {
	for _, k := range keys {
		if v, ok := ann[k]; ok && v != "" {
			return k, v
		}
	}
	return "", ""
}

// apiPodResolver reads the pod's namespace (its subnet annotation) and the pod
// (its static IP or ip pool annotation, labels and ports) from the informer
// cache, and from the API when the cache does not have them yet (a
// namespace created a moment ago) or has another pod of the same name (a
// StatefulSet pod re-created: the UID of the CNI request decides). A
// namespace without the annotation may be listed in a SubNet's
// spec.namespaces (read from cache).
func apiPodResolver(c client.Reader, cache client.Reader) PodResolver {
	return func(ctx context.Context, pod *PodRef) error {
		var ns corev1.Namespace
		if err := cachedGet(ctx, cache, c, client.ObjectKey{Name: pod.Namespace}, &ns, func() bool { return true }); err != nil {
			return api.TryAgainLater("read namespace %s: %v", pod.Namespace, err)
		}
		_, pod.Subnet = firstAnnotation(ns.Annotations, v1alpha1.NamespaceSubnetAnnotations)
		if pod.Subnet == "" {
			var err error
			if pod.Subnet, err = subnetListing(ctx, cache, pod.Namespace); err != nil {
				return err
			}
		}
		var p corev1.Pod
		samePod := func() bool { return pod.UID != "" && string(p.UID) == pod.UID }
		if err := cachedGet(ctx, cache, c, client.ObjectKey{Namespace: pod.Namespace, Name: pod.Name}, &p, samePod); err != nil {
			return api.TryAgainLater("read pod %s/%s: %v", pod.Namespace, pod.Name, err)
		}
		if pod.UID == "" {
			pod.UID = string(p.UID)
		}
		pod.Labels = p.Labels
		for _, c := range p.Spec.Containers {
			pod.Ports = append(pod.Ports, c.Ports...)
		}
		if key, v := firstAnnotation(p.Annotations, v1alpha1.PodIPv4Annotations); v != "" {
			ip, err := netip.ParseAddr(v)
			if err != nil || !ip.Is4() {
				return &types.Error{Code: types.ErrInvalidNetworkConfig,
					Msg: fmt.Sprintf("pod %s/%s: annotation %s=%q is not an IPv4 address", pod.Namespace, pod.Name, key, v)}
			}
			pod.StaticIP = ip
			return nil // the static IP wins over an ip pool
		}
		if key, v := firstAnnotation(p.Annotations, v1alpha1.PodIPPoolAnnotations); v != "" {
			pool, err := ipam.ParseIPPool(v)
			if err == nil {
				pool, err = statefulSetEntry(&p, pool)
			}
			if err != nil {
				return &types.Error{Code: types.ErrInvalidNetworkConfig,
					Msg: fmt.Sprintf("pod %s/%s: annotation %s=%q: %v", pod.Namespace, pod.Name, key, v, err)}
			}
			pod.Pool = pool
		}
		return nil
	}
}

// cachedGet reads key from cache when it is there and good (as ok judges
// it), else from the API.
func cachedGet(ctx context.Context, cache, api client.Reader, key client.ObjectKey, obj client.Object, ok func() bool) error {
	if err := cache.Get(ctx, key, obj); err == nil && ok() {
		return nil
	}
	return api.Get(ctx, key, obj)
}

// statefulSetEntry narrows the ip pool of a pod of a StatefulSet to the
// entry of its ordinal (label apps.kubernetes.io/pod-index, else the -N
// suffix of its name): pod web-1 always gets the second address, and waits
// for it while another pod holds it. An ordinal past the end of the pool
// is an error. Other pods keep the whole pool.
func statefulSetEntry(p *corev1.Pod, pool []netip.Addr) ([]netip.Addr, error) {
	owner := metav1.GetControllerOf(p)
	if owner == nil || owner.Kind != "StatefulSet" || len(pool) == 0 {
		return pool, nil
	}
	s, ok := p.Labels[appsv1.PodIndexLabel]
	if !ok {
		i := strings.LastIndexByte(p.Name, '-')
		if i < 0 || p.Name[:i] != owner.Name {
			return pool, nil
		}
		s = p.Name[i+1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return pool, nil
	}
	if n >= len(pool) {
		return nil, fmt.Errorf("StatefulSet pod %s has ordinal %d but the pool lists only %d addresses (entry N is for ordinal N)", p.Name, n, len(pool))
	}
	return pool[n : n+1], nil
}

// subnetListing returns the SubNet whose spec.namespaces lists namespace
// ("" when none does); two SubNets claiming it is a configuration error.
func subnetListing(ctx context.Context, c client.Reader, namespace string) (string, error) {
	var list v1alpha1.SubNetList
	if err := c.List(ctx, &list); err != nil {
		return "", api.TryAgainLater("list subnets: %v", err)
	}
	var found []string
	for _, sn := range list.Items {
		if slices.Contains(sn.Spec.Namespaces, namespace) {
			found = append(found, sn.Name)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", &types.Error{Code: types.ErrInvalidNetworkConfig,
		Msg: fmt.Sprintf("namespace %s is listed in spec.namespaces of several subnets: %v", namespace, found)}
}
