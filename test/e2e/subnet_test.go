package e2e

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestPodsGetIPsFromDefaultSubnet: two pods per node get distinct addresses
// from defaultnet (never its gateway); inside each pod eth0 carries that
// address with the subnet's prefix, its MTU is the node uplink's minus the
// tunnel overhead, and the default route goes via the subnet gateway.
func TestPodsGetIPsFromDefaultSubnet(t *testing.T) {
	e := setup(t, "ipam")
	_, subnet, _ := net.ParseCIDR(defaultSubnetCIDR)
	prefix, _ := subnet.Mask.Size()

	var specs []*corev1.Pod
	var names []string
	for _, n := range e.nodes {
		for _, s := range []string{"a", "b"} {
			p := netexecPod(n.Name+"-"+s, n.Name)
			specs, names = append(specs, p), append(names, p.Name)
		}
		specs = append(specs, hostNetPod("host-"+n.Name, n.Name))
	}
	pods := e.createPods(specs...)

	uplink := map[string]int{}
	for _, n := range e.nodes {
		uplink[n.Name] = e.uplinkMTU(pods["host-"+n.Name], n)
	}

	owners := map[string][]string{} // pod IP -> pods
	for _, name := range names {
		owners[pods[name].Status.PodIP] = append(owners[pods[name].Status.PodIP], name)
	}

	var probes []probe
	var outs []outcome
	for _, name := range names {
		p := pods[name]
		row := fmt.Sprintf("%s (%s)", p.Name, p.Spec.NodeName)
		ip := p.Status.PodIP
		okIP := inCIDR(ip, defaultSubnetCIDR) && ip != defaultGateway && len(owners[ip]) == 1
		outs = append(outs, outcome{probe: probe{kind: "pod addressing", from: row, to: "status.podIP",
			expect: fmt.Sprintf("an address in %s, not the gateway %s, used by no other pod", defaultSubnetCIDR, defaultGateway)},
			observed: fmt.Sprintf("%q (pods with this IP: %v)", ip, owners[ip]), ok: okIP, attempts: 1})

		wantAddr := fmt.Sprintf("%s/%d", ip, prefix)
		probes = append(probes, probe{kind: "pod addressing", from: row, to: "eth0 address",
			expect: "eth0 has " + wantAddr,
			run: func(ctx context.Context) (string, bool) {
				out, _, err := e.c.execIn(ctx, p, netexecContainer, "ip", "-o", "-4", "addr", "show", "dev", "eth0")
				if err != nil {
					return errText(err), false
				}
				addrs := inetAddrs(out)
				return fmt.Sprintf("eth0 addresses %v", addrs), len(addrs) == 1 && addrs[0] == wantAddr
			}})

		wantMTU := uplink[p.Spec.NodeName] - tunnelOverhead
		probes = append(probes, probe{kind: "pod addressing", from: row, to: "eth0 mtu",
			expect: fmt.Sprintf("MTU %d (node %s uplink %d - %d)", wantMTU, p.Spec.NodeName, uplink[p.Spec.NodeName], tunnelOverhead),
			run: func(ctx context.Context) (string, bool) {
				out, _, err := e.c.execIn(ctx, p, netexecContainer, "cat", "/sys/class/net/eth0/mtu")
				if err != nil {
					return errText(err), false
				}
				got := strings.TrimSpace(out)
				return "MTU " + got, got == strconv.Itoa(wantMTU)
			}})

		probes = append(probes, probe{kind: "pod addressing", from: row, to: "default route",
			expect: "default via " + defaultGateway + " dev eth0",
			run: func(ctx context.Context) (string, bool) {
				out, _, err := e.c.execIn(ctx, p, netexecContainer, "ip", "-4", "route")
				if err != nil {
					return errText(err), false
				}
				via, dev := defaultRoute(out)
				return fmt.Sprintf("default via %q dev %q (ip route: %s)", via, dev, oneLine(out, 200)),
					via == defaultGateway && dev == "eth0"
			}})
	}
	outs = append(outs, runProbes(probes, probeWindow)...)
	reportProbes(t, "pod addresses from "+defaultSubnetCIDR, outs)
}

// uplinkMTU is the MTU of the interface that holds the node's InternalIP
// (br-phy in the lab), read from a hostNetwork pod on that node.
func (e *env) uplinkMTU(host *corev1.Pod, n labNode) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), probeAttempt)
	defer cancel()
	out, _, err := e.c.execIn(ctx, host, hostContainer, "ip", "-o", "-4", "addr", "show")
	if err != nil {
		e.t.Fatalf("node %s: cannot list its addresses to find the uplink: %v", n.Name, err)
	}
	dev := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == "inet" && strings.HasPrefix(f[3], n.IP+"/") {
			dev, _, _ = strings.Cut(f[1], "@")
		}
	}
	if dev == "" {
		e.t.Fatalf("node %s: expected an interface with its InternalIP %s; `ip -o -4 addr show` in its netns says:\n%s", n.Name, n.IP, out)
	}
	mtu, _, err := e.c.execIn(ctx, host, hostContainer, "cat", "/sys/class/net/"+dev+"/mtu")
	if err != nil {
		e.t.Fatalf("node %s: read MTU of uplink %s: %v", n.Name, dev, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(mtu))
	if err != nil {
		e.t.Fatalf("node %s: MTU of uplink %s is %q", n.Name, dev, mtu)
	}
	e.t.Logf("node %s: uplink %s (%s) MTU %d -> expected pod MTU %d", n.Name, dev, n.IP, v, v-tunnelOverhead)
	return v
}

// inetAddrs returns the "a.b.c.d/len" fields of `ip -o -4 addr show` output.
func inetAddrs(out string) []string {
	var addrs []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "inet" {
				addrs = append(addrs, f[i+1])
			}
		}
	}
	return addrs
}

// defaultRoute returns the gateway and device of the default route in
// `ip route` output.
func defaultRoute(out string) (via, dev string) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "default" {
			continue
		}
		for i := 1; i+1 < len(f); i++ {
			switch f[i] {
			case "via":
				via = f[i+1]
			case "dev":
				dev = f[i+1]
			}
		}
		return via, dev
	}
	return "", ""
}
