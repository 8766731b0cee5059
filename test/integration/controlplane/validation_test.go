package controlplane

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// TestSubNetValidation: the API server rejects bad SubNets with a message
// naming the problem (OpenAPI + CEL in the CRD), and defaults the rest.
func TestSubNetValidation(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		spec    v1alpha1.SubNetSpec
		wantErr string // "" = accepted
	}{
		{name: "good", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0/16", ExcludeIPs: []string{"10.10.0.2", "10.10.0.10..10.10.0.20"}}},
		{name: "not a cidr", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0"}, wantErr: "cidr must be a CIDR such as 10.192.0.0/16"},
		{name: "host bits", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.1/16"}, wantErr: "cidr must be a network address"},
		{name: "too small", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0/31"}, wantErr: "prefix length of at most 30"},
		{name: "ipv6 cidr as v4", spec: v1alpha1.SubNetSpec{CIDR: "fd00::/64"}, wantErr: "cidr must be an IPv4 CIDR when ipVersion is v4"},
		{name: "ip version", spec: v1alpha1.SubNetSpec{IPVersion: "v6", CIDR: "10.10.0.0/16"}, wantErr: `Unsupported value: "v6"`},
		{name: "gateway outside", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0/16", Gateway: "10.11.0.1"}, wantErr: "gateway must be an address inside cidr"},
		{name: "gateway not an ip", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0/16", Gateway: "router"}, wantErr: "gateway must be an IP address"},
		{name: "bad exclude", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0/16", ExcludeIPs: []string{"10.10.0.1-10.10.0.5"}}, wantErr: "each excludeIPs entry must be an IP address or a range a..b"},
		{name: "block size", spec: v1alpha1.SubNetSpec{CIDR: "10.10.0.0/16", BlockSize: 8}, wantErr: "should be greater than or equal to 20"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn := &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "v" + string(rune('a'+i))}, Spec: tt.spec}
			err := e.c.Create(ctx, sn)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tt.wantErr)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}

	// Defaults and immutability, on the accepted one.
	sn := &v1alpha1.SubNet{}
	if err := e.c.Get(ctx, client.ObjectKey{Name: "va"}, sn); err != nil {
		t.Fatal(err)
	}
	if sn.Spec.IPVersion != "v4" || sn.Spec.NATOutgoing == nil || !*sn.Spec.NATOutgoing {
		t.Errorf("defaults not applied: ipVersion %q natOutgoing %v", sn.Spec.IPVersion, sn.Spec.NATOutgoing)
	}
	sn.Spec.CIDR = "10.20.0.0/16"
	if err := e.c.Update(ctx, sn); err == nil || !strings.Contains(err.Error(), "cidr is immutable") {
		t.Errorf("changing cidr: %v, want 'cidr is immutable'", err)
	}
}

// TestSubNetGatewayImmutable: an update that changes a SubNet's gateway in
// effect (spec.gateway, or the first address when it is empty) is refused
// — pods route through it, and the old one would become an address IPAM
// hands out; any other update, and spelling out or dropping the default
// gateway, is accepted.
func TestSubNetGatewayImmutable(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const immutable = "gateway is immutable"
	tests := []struct {
		name, cidr, gateway string
		edit                func(*v1alpha1.SubNetSpec)
		wantErr             string // "" = accepted
	}{
		{"change", "10.30.0.0/16", "10.30.0.254", func(s *v1alpha1.SubNetSpec) { s.Gateway = "10.30.0.253" }, immutable},
		{"drop a non-default one", "10.31.0.0/16", "10.31.0.254", func(s *v1alpha1.SubNetSpec) { s.Gateway = "" }, immutable},
		{"set one other than the default", "10.32.0.0/16", "", func(s *v1alpha1.SubNetSpec) { s.Gateway = "10.32.0.9" }, immutable},
		{"set the default", "10.33.0.0/16", "", func(s *v1alpha1.SubNetSpec) { s.Gateway = "10.33.0.1" }, ""},
		{"drop the default", "10.34.0.0/24", "10.34.0.1", func(s *v1alpha1.SubNetSpec) { s.Gateway = "" }, ""},
		{"other fields", "10.35.0.0/16", "10.35.0.254", func(s *v1alpha1.SubNetSpec) {
			s.Private, s.Namespaces, s.ExcludeIPs = true, []string{"team-a"}, []string{"10.35.0.9"}
		}, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sn := &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "gw" + string(rune('a'+i))},
				Spec: v1alpha1.SubNetSpec{CIDR: tt.cidr, Gateway: tt.gateway}}
			e.create(t, sn)
			tt.edit(&sn.Spec)
			err := e.c.Update(ctx, sn)
			expectRefusal(t, err, tt.wantErr)
		})
	}
}
