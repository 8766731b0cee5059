package ipam

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestParseIPPool(t *testing.T) {
	tests := []struct {
		in      string
		want    string // entries joined by ","
		wantErr string
	}{
		{in: "", want: ""},
		{in: "10.192.10.1,10.192.10.2,10.192.10.3", want: "10.192.10.1,10.192.10.2,10.192.10.3"},
		{in: " 10.0.0.2 , 10.0.0.1,, ", want: "10.0.0.2,10.0.0.1"},
		{in: "10.0.0.1,10.0.0.2,10.0.0.1", want: "10.0.0.1,10.0.0.2"},
		{in: "10.0.0.1,10.0.0.300", wantErr: `"10.0.0.300" is not an IPv4 address`},
		{in: "fd00::1", wantErr: `"fd00::1" is not an IPv4 address`},
		{in: "10.0.0.1;10.0.0.2", wantErr: `"10.0.0.1;10.0.0.2" is not an IPv4 address`},
		{in: "10.0.0.0/24", wantErr: "not an IPv4 address"},
		{in: strings.Repeat("10.0.0.1,", MaxIPPoolSize), wantErr: "at most 4096 are allowed"},
	}
	for _, tt := range tests {
		got, err := ParseIPPool(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseIPPool(%q): err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		var s []string
		for _, ip := range got {
			s = append(s, ip.String())
		}
		if err != nil || strings.Join(s, ",") != tt.want {
			t.Errorf("ParseIPPool(%q) = %v, %v; want %s", tt.in, s, err, tt.want)
		}
	}
}

func pool(ips ...string) func(*Request) {
	return func(r *Request) {
		for _, ip := range ips {
			r.Pool = append(r.Pool, netip.MustParseAddr(ip))
		}
	}
}

func TestAllocateIPPool(t *testing.T) {
	three := pool("10.0.0.10", "10.0.0.11", "10.0.0.12")
	terminating := func(p *corev1.Pod) {
		p.DeletionTimestamp = &metav1.Time{Time: metav1.Now().Time}
		p.Finalizers = []string{"test/keep"}
	}
	recreated := func(p *corev1.Pod) { p.UID = types.UID("uid-new") }
	tests := []struct {
		name string
		// pods exist in the API (holders that are alive unless modified)
		pods  []*corev1.Pod
		steps []step
	}{
		{
			name: "first free entry, in list order; idempotent per container",
			pods: []*corev1.Pod{podObj("a"), podObj("b")},
			steps: []step{
				{req: req("n1", "a", three), want: "10.0.0.10"},
				{req: req("n2", "b", three), want: "10.0.0.11"},
				{req: req("n1", "a", three), want: "10.0.0.10"},
			},
		},
		{
			name: "entries held by other pods (static or pool) are skipped",
			pods: []*corev1.Pod{podObj("x"), podObj("y")},
			steps: []step{
				{req: req("n1", "x", static("10.0.0.10")), want: "10.0.0.10"},
				{req: req("n1", "y", static("10.0.0.11")), want: "10.0.0.11"},
				{req: req("n2", "a", three), want: "10.0.0.12"},
			},
		},
		{
			name: "all taken: exhausted, naming every holder; a release frees one",
			pods: []*corev1.Pod{podObj("a"), podObj("b"), podObj("c"), podObj("d")},
			steps: []step{
				{req: req("n1", "a", three), want: "10.0.0.10"},
				{req: req("n1", "b", three), want: "10.0.0.11"},
				{req: req("n2", "c", three), want: "10.0.0.12"},
				{req: req("n2", "d", three), wantErr: ReasonIPPoolExhausted,
					errHas: `ip pool exhausted: 10.0.0.10 held by ns/a, 10.0.0.11 held by ns/b, 10.0.0.12 held by ns/c (subnet "net")`},
				{release: "c-b"},
				{req: req("n2", "d", three), want: "10.0.0.11"},
			},
		},
		{
			name: "holders that are gone are taken over; a terminating one keeps its address until it is gone",
			pods: []*corev1.Pod{podObj("a"), podObj("b", terminating), podObj("c"), podObj("d")},
			steps: []step{
				{req: req("n1", "a", static("10.0.0.10")), want: "10.0.0.10"},
				{req: req("n1", "b", static("10.0.0.11")), want: "10.0.0.11"},
				{req: req("n1", "gone", static("10.0.0.12")), want: "10.0.0.12"},
				{req: req("n2", "c", three), want: "10.0.0.12"}, // "gone" does not exist; b is terminating: still held
				{req: req("n2", "d", three), wantErr: ReasonIPPoolExhausted, errHas: "10.0.0.11 held by ns/b"},
			},
		},
		{
			name: "a pod recreated under the same name with another UID no longer holds",
			pods: []*corev1.Pod{podObj("a", recreated), podObj("b")},
			steps: []step{
				{req: req("n1", "a", three), want: "10.0.0.10"},
				{req: req("n1", "b", three), want: "10.0.0.10"},
			},
		},
		{
			name: "a new sandbox of the same pod gets its own entry back",
			pods: []*corev1.Pod{podObj("a"), podObj("b")},
			steps: []step{
				{req: req("n1", "b", static("10.0.0.10")), want: "10.0.0.10"},
				{req: req("n1", "a", three), want: "10.0.0.11"},
				{req: req("n1", "a", three, func(r *Request) { r.ContainerID = "c-a2" }), want: "10.0.0.11"},
			},
		},
		{
			name: "an address without a pod (a node's) is never taken over",
			steps: []step{
				{req: Request{Subnet: "net", Node: "n1", ContainerID: "node-n1", Interface: "gw0", StaticIP: netip.MustParseAddr("10.0.0.10")}, want: "10.0.0.10"},
				{req: req("n1", "a", pool("10.0.0.10")), wantErr: ReasonIPPoolExhausted, errHas: "10.0.0.10 held by node n1 (gw0)"},
			},
		},
		{
			name: "the static IP annotation wins",
			steps: []step{
				{req: req("n1", "a", three, static("10.0.0.50")), want: "10.0.0.50"},
			},
		},
		{
			name: "entries outside the subnet, the gateway, excluded or reserved are errors",
			steps: []step{
				{req: req("n1", "a", pool("10.0.0.10", "10.0.1.1")), wantErr: ReasonIPOutOfRange, errHas: `ip pool entry 10.0.1.1 is outside subnet "net" (10.0.0.0/24)`},
				{req: req("n1", "a", pool("10.0.0.1")), wantErr: ReasonIPReserved, errHas: `ip pool entry 10.0.0.1 is the gateway of subnet "net"`},
				{req: req("n1", "a", pool("10.0.0.10", "10.0.0.200")), wantErr: ReasonIPExcluded, errHas: `ip pool entry 10.0.0.200 is in the excludeIPs of subnet "net"`},
				{req: req("n1", "a", pool("10.0.0.255")), wantErr: ReasonIPReserved, errHas: "broadcast"},
				{req: req("n1", "a", pool("fd00::1")), wantErr: ReasonInvalidRequest, errHas: "ip pool entry fd00::1 is not an IPv4 address"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := []client.Object{subnetObj("net", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.ExcludeIPs = []string{"10.0.0.200"} })}
			for _, p := range tt.pods {
				objs = append(objs, p)
			}
			c := fakeClient(t, objs...)
			runSteps(t, New(c, Options{}), tt.steps, nil)
			blocks := listBlocks(t, c)
			assertUnique(t, blocks)
			// every address has one holder, and pool addresses are recorded as requested
			for _, b := range blocks {
				for ip, al := range b.Spec.Allocations {
					if !al.Static {
						t.Errorf("%s (%s/%s) not recorded as requested", ip, al.Namespace, al.Pod)
					}
				}
			}
		})
	}
}

func TestIPPoolExhaustedIsTemporary(t *testing.T) {
	e := &Error{Reason: ReasonIPPoolExhausted, Message: "ip pool exhausted: x"}
	if !e.Temporary() || e.CNIError().Code != 11 {
		t.Fatalf("temporary %v, code %d", e.Temporary(), e.CNIError().Code)
	}
}
