package ipam

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// BlockSubnetField selects the IPAMBlocks of one SubNet. The API server
// serves it as a selectable field of the CRD; informer caches need the index
// IndexBlocks registers. Listing one SubNet's blocks through it costs the
// blocks of that SubNet instead of every block of the cluster.
const BlockSubnetField = "spec.subnet"

// BlockSubnet is the index function of BlockSubnetField.
func BlockSubnet(o client.Object) []string {
	b, ok := o.(*v1alpha1.IPAMBlock)
	if !ok || b.Spec.Subnet == "" {
		return nil
	}
	return []string{b.Spec.Subnet}
}

// IndexBlocks registers the BlockSubnetField index with an informer cache.
// Call it before the cache starts.
func IndexBlocks(ctx context.Context, fi client.FieldIndexer) error {
	return fi.IndexField(ctx, &v1alpha1.IPAMBlock{}, BlockSubnetField, BlockSubnet)
}

// ListSubnetBlocks lists the IPAMBlocks of subnet from r (a cache with
// IndexBlocks' index, or the API server). The items are the reader's own
// copies when r is a cache: read them, never modify them.
func ListSubnetBlocks(ctx context.Context, r client.Reader, subnet string) ([]v1alpha1.IPAMBlock, error) {
	list := &v1alpha1.IPAMBlockList{}
	if err := r.List(ctx, list, client.MatchingFields{BlockSubnetField: subnet}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return list.Items, nil
}
