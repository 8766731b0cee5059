package controller

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// DefaultSubnetEnsurer creates the default SubNet if it does not exist. It
// never changes an existing one: a different CIDR is only logged (the CIDR
// is immutable, and addresses are in use).
type DefaultSubnetEnsurer struct {
	Client client.Client
	Subnet SubnetConfig
}

// Start runs until the SubNet exists or ctx ends (manager.Runnable).
func (e *DefaultSubnetEnsurer) Start(ctx context.Context) error {
	log := klog.FromContext(ctx).WithValues("subnet", e.Subnet.Name)
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Cap: 30 * time.Second, Steps: 1 << 30}
	return wait.ExponentialBackoffWithContext(ctx, backoff, func(ctx context.Context) (bool, error) {
		if err := e.Ensure(ctx); err != nil {
			log.Error(err, "Ensuring the default subnet; will retry")
			return false, nil
		}
		return true, nil
	})
}

// NeedLeaderElection: only the active replica writes.
func (e *DefaultSubnetEnsurer) NeedLeaderElection() bool { return true }

// Ensure creates the SubNet, or checks the existing one.
func (e *DefaultSubnetEnsurer) Ensure(ctx context.Context) error {
	log := klog.FromContext(ctx).WithValues("subnet", e.Subnet.Name)
	sn := &v1alpha1.SubNet{
		ObjectMeta: metav1.ObjectMeta{Name: e.Subnet.Name},
		Spec: v1alpha1.SubNetSpec{
			IPVersion:   v1alpha1.IPVersion4,
			CIDR:        e.Subnet.CIDR,
			Gateway:     e.Subnet.Gateway,
			ExcludeIPs:  e.Subnet.ExcludeIPs,
			BlockSize:   e.Subnet.BlockSize,
			NATOutgoing: e.Subnet.NATOutgoing,
		},
	}
	err := e.Client.Create(ctx, sn)
	switch {
	case err == nil:
		log.Info("Created the default subnet", "cidr", e.Subnet.CIDR)
		return nil
	case !apierrors.IsAlreadyExists(err):
		return err
	}
	cur := &v1alpha1.SubNet{}
	if err := e.Client.Get(ctx, client.ObjectKey{Name: e.Subnet.Name}, cur); err != nil {
		return err
	}
	if cur.Spec.CIDR != e.Subnet.CIDR {
		log.Info("The default subnet exists with another CIDR than configured; keeping it", "cidr", cur.Spec.CIDR, "configured", e.Subnet.CIDR)
	}
	return nil
}
