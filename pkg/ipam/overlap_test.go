package ipam

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestOverlap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(name, cidr string, age int) v1alpha1.SubNet {
		return v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Minute))},
			Spec: v1alpha1.SubNetSpec{CIDR: cidr}}
	}
	all := []v1alpha1.SubNet{
		mk("defaultnet", "10.192.0.0/16", 0),
		mk("newnet", "10.182.0.0/16", 1),
		mk("inside", "10.192.5.0/24", 2),
		mk("wide", "10.128.0.0/9", 3),
		mk("tie-b", "10.150.0.0/16", 4),
		mk("tie-a", "10.150.0.0/24", 4),
	}
	tests := []struct{ name, want string }{
		{"defaultnet", ""},
		{"newnet", ""},
		{"inside", "defaultnet"},
		{"wide", "defaultnet"},
		{"tie-a", "wide"},
		{"tie-b", "wide"},
	}
	for _, tc := range tests {
		var sn v1alpha1.SubNet
		for _, s := range all {
			if s.Name == tc.name {
				sn = s
			}
		}
		got := ""
		if o := Overlap(&sn, all); o != nil {
			got = o.Name
		}
		if got != tc.want {
			t.Errorf("Overlap(%s) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
