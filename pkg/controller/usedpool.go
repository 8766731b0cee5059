package controller

import (
	"fmt"
	"strings"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/containerid"
)

// maxPoolLine bounds one line of SubNetStatus.UsedPool (the CRD's limit).
const maxPoolLine = 1024

// nodeAddressHolder is the holder column of a node's own address.
const nodeAddressHolder = "(node address)"

// usedAddress is one allocated address of a SubNet.
type usedAddress struct {
	ip string
	a  v1alpha1.Allocation
}

// poolColumns are the columns of a usedAddress's line: address, node,
// holder, container, interface and a "static" marker.
func poolColumns(u usedAddress) []string {
	node, iface := orDash(u.a.Node), orDash(u.a.Interface)
	if u.a.IsNodeAddress() {
		if u.a.Node == "" {
			node = strings.TrimPrefix(u.a.ContainerID, v1alpha1.NodeAddressContainerIDPrefix)
		}
		if u.a.Interface == "" {
			iface = "gw0"
		}
		return []string{u.ip, node, nodeAddressHolder, "-", iface, ""}
	}
	holder := orDash(u.a.Pod)
	if u.a.Namespace != "" {
		holder = u.a.Namespace + "/" + holder
	}
	container := "-"
	if u.a.ContainerID != "" {
		container = "container " + containerid.Short(u.a.ContainerID)
	}
	static := ""
	if u.a.Static {
		static = "static"
	}
	return []string{u.ip, node, holder, container, iface, static}
}

// poolLines renders used as SubNetStatus.UsedPool: one line per address,
// columns aligned with spaces (kubectl describe prints each line as is).
func poolLines(used []usedAddress) []string {
	rows := make([][]string, len(used))
	var width []int
	for i, u := range used {
		rows[i] = poolColumns(u)
		for j, c := range rows[i] {
			if j == len(width) {
				width = append(width, 0)
			}
			width[j] = max(width[j], len(c))
		}
	}
	lines := make([]string, len(rows))
	for i, row := range rows {
		var b strings.Builder
		for j, c := range row {
			if j > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if j < len(row)-1 {
				b.WriteString(strings.Repeat(" ", width[j]-len(c)))
			}
		}
		line := strings.TrimRight(b.String(), " ")
		if len(line) > maxPoolLine {
			line = strings.ToValidUTF8(line[:maxPoolLine-3], "") + "..."
		}
		lines[i] = line
	}
	return lines
}

// poolSummary is SubNetStatus.PoolStatus.
func poolSummary(used []usedAddress, capacity, available int64, listed int) string {
	nodes := 0
	for _, u := range used {
		if u.a.IsNodeAddress() {
			nodes++
		}
	}
	s := fmt.Sprintf("%d of %d addresses used (%s, %s), %d available", len(used), capacity,
		plural(len(used)-nodes, "pod"), plural(nodes, "node address"), available)
	if listed < len(used) {
		s += fmt.Sprintf("; usedPool lists the first %d", listed)
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "s") {
		return fmt.Sprintf("%d %ses", n, what)
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
