package ipam

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// holderAlive reports whether the pod an allocation records still exists,
// as the same pod (same UID). It reads the pod's metadata straight from the
// API server: the pod may live on any node. An allocation without a pod (a
// node's own address) is always alive.
//
// A terminating pod still holds its address: its interface lives until its
// sandbox is torn down, and handing the address over before that would put
// it on two pods at once. The successor gets it as soon as the old pod's
// CNI DEL released it or the pod object is gone (a StatefulSet re-creates a
// pod only then).
func (a *Allocator) holderAlive(ctx context.Context, held v1alpha1.Allocation) (bool, error) {
	if held.Pod == "" {
		return true, nil
	}
	o := &metav1.PartialObjectMetadata{}
	o.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	err := a.api.Get(ctx, client.ObjectKey{Namespace: held.Namespace, Name: held.Pod}, o)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading pod %s/%s (holder of an address): %w", held.Namespace, held.Pod, err)
	case held.PodUID != "" && string(o.UID) != held.PodUID:
		return false, nil // another pod of the same name
	}
	return true, nil
}
