package agent

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/containernetworking/cni/pkg/types"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/cni/api"
)

func firstAnnotation(ann map[string]string, keys []string) (string, string) {
	for _, k := range keys {
		if v, ok := ann[k]; ok && v != "" {
			return k, v
		}
	}
	return "", ""
}

// podInfo reads the pod's namespace (its subnet annotation) and the pod
// (its static IP annotation) from the API, directly: a pod being created is
// often not yet in an informer cache. A namespace without the annotation
// may be listed in a SubNet's spec.namespaces (read from cache).
func podInfo(c client.Reader, cache client.Reader) PodInfo {
	return func(ctx context.Context, pod *PodRef) error {
		var ns corev1.Namespace
		if err := c.Get(ctx, client.ObjectKey{Name: pod.Namespace}, &ns); err != nil {
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
		if err := c.Get(ctx, client.ObjectKey{Namespace: pod.Namespace, Name: pod.Name}, &p); err != nil {
			return api.TryAgainLater("read pod %s/%s: %v", pod.Namespace, pod.Name, err)
		}
		if pod.UID == "" {
			pod.UID = string(p.UID)
		}
		if key, v := firstAnnotation(p.Annotations, v1alpha1.PodIPv4Annotations); v != "" {
			ip, err := netip.ParseAddr(v)
			if err != nil || !ip.Is4() {
				return &types.Error{Code: types.ErrInvalidNetworkConfig,
					Msg: fmt.Sprintf("pod %s/%s: annotation %s=%q is not an IPv4 address", pod.Namespace, pod.Name, key, v)}
			}
			pod.StaticIP = ip
		}
		return nil
	}
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
