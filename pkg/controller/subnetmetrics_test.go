package controller

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestSubnetUsage(t *testing.T) {
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	subnet := func(name string, used, avail int64) client.Object {
		return &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: v1alpha1.SubNetStatus{Used: used, Available: avail}}
	}
	const header = `
# HELP kubefay_subnet_available_ips Addresses IPAM can still hand out in the SubNet (its status.available).
# TYPE kubefay_subnet_available_ips gauge
%s# HELP kubefay_subnet_capacity_ips Addresses IPAM can hand out in the SubNet in all (used + available: the CIDR minus network, broadcast, gateway and excludeIPs).
# TYPE kubefay_subnet_capacity_ips gauge
%s# HELP kubefay_subnet_used_ips Addresses allocated in the SubNet (its status.used, as ` + "`kubectl get subnet`" + ` shows).
# TYPE kubefay_subnet_used_ips gauge
%s`
	tests := []struct {
		name                   string
		subnets                []client.Object
		avail, capacity, used  string
		noReader, wantNoSeries bool
	}{
		{name: "no reader yet", noReader: true, wantNoSeries: true},
		{name: "no subnets", wantNoSeries: true},
		{name: "two subnets, one without status yet",
			subnets:  []client.Object{subnet("defaultnet", 3, 65530), subnet("newnet", 0, 0)},
			avail:    "kubefay_subnet_available_ips{subnet=\"defaultnet\"} 65530\nkubefay_subnet_available_ips{subnet=\"newnet\"} 0\n",
			capacity: "kubefay_subnet_capacity_ips{subnet=\"defaultnet\"} 65533\nkubefay_subnet_capacity_ips{subnet=\"newnet\"} 0\n",
			used:     "kubefay_subnet_used_ips{subnet=\"defaultnet\"} 3\nkubefay_subnet_used_ips{subnet=\"newnet\"} 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &subnetUsage{}
			if !tt.noReader {
				u.use(fake.NewClientBuilder().WithScheme(s).WithObjects(tt.subnets...).Build())
			}
			if tt.wantNoSeries {
				if n := testutil.CollectAndCount(u); n != 0 {
					t.Fatalf("%d series, want none", n)
				}
				return
			}
			want := strings.NewReader(fmt.Sprintf(header, tt.avail, tt.capacity, tt.used))
			if err := testutil.CollectAndCompare(u, want); err != nil {
				t.Fatal(err)
			}
		})
	}
}
