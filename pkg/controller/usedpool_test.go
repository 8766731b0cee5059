package controller

import (
	"strings"
	"testing"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// TestPoolLines: one line per address, columns aligned, the node's own
// address marked as such, no trailing blanks.
func TestPoolLines(t *testing.T) {
	used := []usedAddress{
		{"10.192.29.0", v1alpha1.Allocation{ContainerID: "node-kf-node-1", Interface: "gw0", Node: "kf-node-1"}},
		{"10.192.29.1", v1alpha1.Allocation{Namespace: "default", Pod: "nginx-1", ContainerID: "1a2b3c4d5e6f7a8b9c0d", Interface: "eth0", Node: "kf-node-1"}},
		{"10.192.29.10", v1alpha1.Allocation{Namespace: "kube-system", Pod: "coredns-abc", ContainerID: "ffeeddccbbaa99887766", Interface: "eth0", Node: "n2", Static: true}},
		{"10.192.29.11", v1alpha1.Allocation{ContainerID: "node-n3"}},
	}
	want := []string{
		"10.192.29.0   kf-node-1  (node address)           -                       gw0",
		"10.192.29.1   kf-node-1  default/nginx-1          container 1a2b3c4d5e6f  eth0",
		"10.192.29.10  n2         kube-system/coredns-abc  container ffeeddccbbaa  eth0  static",
		"10.192.29.11  n3         (node address)           -                       gw0",
	}
	got := poolLines(used)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("poolLines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s := poolSummary(used, 65533, 65529, 4); s != "4 of 65533 addresses used (2 pods, 2 node addresses), 65529 available" {
		t.Errorf("poolSummary: %q", s)
	}
	if s := poolSummary(used[:2], 10, 8, 1); s != "2 of 10 addresses used (1 pod, 1 node address), 8 available; usedPool lists the first 1" {
		t.Errorf("poolSummary: %q", s)
	}
	long := usedAddress{"10.0.0.2", v1alpha1.Allocation{Pod: strings.Repeat("p", 2000)}}
	if l := poolLines([]usedAddress{long})[0]; len(l) != maxPoolLine || !strings.HasSuffix(l, "...") {
		t.Errorf("a long line is %d bytes, want %d ending in ...", len(l), maxPoolLine)
	}
}
