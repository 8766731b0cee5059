package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

// newTable returns a tabwriter laid out like kubectl's tables.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
}

// row writes cells separated by tabs.
func row(w io.Writer, cells ...string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// list joins items with commas, "-" when there are none.
func list(items []string) string {
	return orDash(strings.Join(items, ","))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// age formats how long ago t was, "<unknown>" for the zero time.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t))
}

// holder names an allocation's holder: namespace/pod, or the node for a
// node's gateway address.
func holder(u UsedIP) (namespace, pod string) {
	if u.NodeGateway {
		return "-", fmt.Sprintf("(node %s %s)", gatewayNode(u.Allocation), gatewayIface(u.Allocation))
	}
	return orDash(u.Namespace), orDash(u.Pod)
}

func gatewayIface(a v1alpha1.Allocation) string {
	if a.Interface == "" {
		return "gw0"
	}
	return a.Interface
}
