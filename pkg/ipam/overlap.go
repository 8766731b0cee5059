package ipam

import (
	"fmt"
	"net/netip"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// Overlap returns the SubNet among all whose CIDR overlaps sn's and that
// takes precedence over sn (created earlier; on a tie, the smaller name), or
// nil. The older subnet keeps working; the newer one gets no addresses and
// reports why, so that overlapping address space is never handed out twice.
func Overlap(sn *v1alpha1.SubNet, all []v1alpha1.SubNet) *v1alpha1.SubNet {
	p, err := netip.ParsePrefix(sn.Spec.CIDR)
	if err != nil {
		return nil
	}
	var winner *v1alpha1.SubNet
	for i := range all {
		o := &all[i]
		if o.Name == sn.Name {
			continue
		}
		q, err := netip.ParsePrefix(o.Spec.CIDR)
		if err != nil || !p.Masked().Overlaps(q.Masked()) || !precedes(o, sn) {
			continue
		}
		if winner == nil || precedes(o, winner) {
			winner = o
		}
	}
	return winner
}

func precedes(a, b *v1alpha1.SubNet) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

// OverlapMessage says why sn cannot be used.
func OverlapMessage(sn, other *v1alpha1.SubNet) string {
	return fmt.Sprintf("subnet %q (%s) overlaps subnet %q (%s), which was there first: no address is given from %q until its cidr is changed or %q is deleted",
		sn.Name, sn.Spec.CIDR, other.Name, other.Spec.CIDR, sn.Name, other.Name)
}
