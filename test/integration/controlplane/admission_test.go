package controlplane

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/testing/apiserver"
)

// TestSubNetAdmissionPolicies: with the install's admission policies
// (build/helm/kubefay/templates/subnet-admission.yaml), the apiserver
// refuses a SubNet overlapping another SubNet, the service range
// (ServiceCIDR objects) or a Node's address, naming it, and one whose
// excludeIPs lie outside its CIDR; it accepts the rest.
func TestSubNetAdmissionPolicies(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.installManifests(t, "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	if err := e.c.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.50.10"}}
	if err := e.c.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(ctx, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "first"},
		Spec: v1alpha1.SubNetSpec{CIDR: "10.40.0.0/16"}}); err != nil {
		t.Fatal(err)
	}
	// the apiserver picks policies and their parameters up asynchronously
	deadline := time.Now().Add(time.Minute)
	for {
		err := e.c.Create(ctx, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "probe"},
			Spec: v1alpha1.SubNetSpec{CIDR: "10.40.1.0/24"}})
		if err != nil && strings.Contains(err.Error(), "overlaps SubNet first") {
			break
		}
		if err == nil {
			_ = e.c.Delete(ctx, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "probe"}})
		}
		if time.Now().After(deadline) {
			t.Fatalf("admission policies not in effect after a minute (last answer: %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	tests := []struct {
		name, cidr, wantErr string
		exclude             []string
	}{
		{"inside another subnet", "10.40.128.0/17", "spec.cidr 10.40.128.0/17 overlaps SubNet first (10.40.0.0/16)", nil},
		{"around another subnet", "10.32.0.0/11", "spec.cidr 10.32.0.0/11 overlaps SubNet first (10.40.0.0/16)", nil},
		{"the service range", "10.96.64.0/18", "overlaps the service range of ServiceCIDR kubernetes (10.96.0.0/16)", nil},
		{"a node's address", "192.168.50.0/24", "spec.cidr 192.168.50.0/24 contains an address of Node n1", nil},
		{"excludeIPs outside", "10.42.0.0/16", "spec.excludeIPs entries outside spec.cidr 10.42.0.0/16: 10.43.0.1, 10.42.255.250..10.43.0.5", []string{"10.42.0.5", "10.43.0.1", "10.42.255.250..10.43.0.5"}},
		{"disjoint", "10.41.0.0/16", "", []string{"10.41.0.2..10.41.0.9"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.c.Create(ctx, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "adm" + string(rune('a'+i))},
				Spec: v1alpha1.SubNetSpec{CIDR: tt.cidr, ExcludeIPs: tt.exclude}})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// readManifests decodes every object of a multi-document YAML file.
func readManifests(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := apiserver.ReadObjects(path)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
