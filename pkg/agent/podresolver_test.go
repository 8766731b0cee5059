package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	apitypes "k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestPodResolverAddressAnnotations(t *testing.T) {
	const three = "10.192.10.1, 10.192.10.2,10.192.10.3"
	controller := true
	sts := func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: "u", Controller: &controller}}
	}
	rs := func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "u", Controller: &controller}}
	}
	index := func(i string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Labels = map[string]string{"apps.kubernetes.io/pod-index": i} }
	}
	tests := []struct {
		name    string
		pod     string
		ann     map[string]string
		mod     []func(*corev1.Pod)
		static  string
		pool    string
		wantErr string
	}{
		{name: "no annotation", pod: "p"},
		{name: "ip pool", pod: "p", ann: map[string]string{"ipPool": three}, pool: "[10.192.10.1 10.192.10.2 10.192.10.3]"},
		{name: "prefixed alias", pod: "p", ann: map[string]string{"kubefay.io/ip-pool": "10.192.10.7"}, pool: "[10.192.10.7]"},
		{name: "static IP wins", pod: "p", ann: map[string]string{"ipPool": three, "IPv4": "10.192.10.9"}, static: "10.192.10.9", pool: "[]"},
		{name: "malformed entry", pod: "p", ann: map[string]string{"ipPool": "10.192.10.1,10.192.10.300"},
			wantErr: `pod ns/p: annotation ipPool="10.192.10.1,10.192.10.300": "10.192.10.300" is not an IPv4 address`},
		{name: "StatefulSet pod: the entry of its ordinal (name)", pod: "web-1", mod: []func(*corev1.Pod){sts}, ann: map[string]string{"ipPool": three}, pool: "[10.192.10.2]"},
		{name: "StatefulSet pod: the entry of its ordinal (label)", pod: "web-2", mod: []func(*corev1.Pod){sts, index("0")}, ann: map[string]string{"ipPool": three}, pool: "[10.192.10.1]"},
		{name: "StatefulSet pod past the end of the pool", pod: "web-3", mod: []func(*corev1.Pod){sts}, ann: map[string]string{"ipPool": three},
			wantErr: "StatefulSet pod web-3 has ordinal 3 but the pool lists only 3 addresses"},
		{name: "other controllers keep the whole pool", pod: "web-2", mod: []func(*corev1.Pod){rs}, ann: map[string]string{"ipPool": three}, pool: "[10.192.10.1 10.192.10.2 10.192.10.3]"},
	}
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: tt.pod, UID: "uid", Annotations: tt.ann}}
			for _, m := range tt.mod {
				m(p)
			}
			// the pod is read from the agent's cache, which holds it slimmed
			slim, _ := SlimPod(p)
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}
			cache := fake.NewClientBuilder().WithScheme(s).WithObjects(ns, slim.(*corev1.Pod)).Build()
			api := fake.NewClientBuilder().WithScheme(s).WithObjects(ns).Build()
			ref := PodRef{Namespace: "ns", Name: tt.pod, UID: "uid"}
			err := apiPodResolver(api, cache)(context.Background(), &ref)
			if tt.wantErr != "" {
				var e *types.Error
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &e) || e.Code != types.ErrInvalidNetworkConfig {
					t.Fatalf("err = %v, want invalid config containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			static := ""
			if ref.StaticIP.IsValid() {
				static = ref.StaticIP.String()
			}
			if static != tt.static || (tt.pool != "" && fmt.Sprint(ref.Pool) != tt.pool) || (tt.pool == "" && len(ref.Pool) > 0) || ref.UID != "uid" {
				t.Fatalf("got static %q pool %v uid %q; want %q %s", static, ref.Pool, ref.UID, tt.static, tt.pool)
			}
		})
	}
}

// TestPodResolverCacheFreshness: the informer cache answers when it has the
// namespace and the very pod of the request (same UID); a namespace it does
// not have yet and a same-name pod of another UID (re-created) are read
// from the API.
func TestPodResolverCacheFreshness(t *testing.T) {
	s := runtime.NewScheme()
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	ns := func(subnet string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns", Annotations: map[string]string{"subnet": subnet}}}
	}
	pod := func(uid, ip string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: apitypes.UID(uid), Annotations: map[string]string{"IPv4": ip}}}
	}
	tests := []struct {
		name         string
		cached       []runtime.Object
		uid          string
		subnet, ipv4 string
	}{
		{"cache has both", []runtime.Object{ns("cached"), pod("u1", "10.0.0.1")}, "u1", "cached", "10.0.0.1"},
		{"namespace not cached yet", []runtime.Object{pod("u1", "10.0.0.1")}, "u1", "api", "10.0.0.1"},
		{"cache holds the previous pod of that name", []runtime.Object{ns("cached"), pod("old", "10.0.0.1")}, "u1", "cached", "10.0.0.2"},
		{"request without a UID: the API decides", []runtime.Object{ns("cached"), pod("old", "10.0.0.1")}, "", "cached", "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := fake.NewClientBuilder().WithScheme(s).WithRuntimeObjects(tt.cached...).Build()
			api := fake.NewClientBuilder().WithScheme(s).WithObjects(ns("api"), pod("u1", "10.0.0.2")).Build()
			ref := PodRef{Namespace: "ns", Name: "p", UID: tt.uid}
			if err := apiPodResolver(api, cache)(context.Background(), &ref); err != nil {
				t.Fatal(err)
			}
			if ref.Subnet != tt.subnet || ref.StaticIP.String() != tt.ipv4 {
				t.Fatalf("subnet %q, IPv4 %s; want %q, %s", ref.Subnet, ref.StaticIP, tt.subnet, tt.ipv4)
			}
		})
	}
}
