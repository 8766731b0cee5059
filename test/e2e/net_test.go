package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// curl fetches url from inside a pod's container (agnhost's curl) and
// returns the body. Bounded: 3 s to connect, 5 s in all.
func (c *cluster) curl(ctx context.Context, pod *corev1.Pod, container, url string) (string, error) {
	out, _, err := c.execIn(ctx, pod, container, "curl", "-sS", "--connect-timeout", "3", "--max-time", "5", url)
	return strings.TrimSpace(out), err
}

// dialResult is what agnhost netexec's /dial endpoint reports.
type dialResult struct {
	Responses []string `json:"responses"`
	Errors    []string `json:"errors"`
}

// dial asks the netexec server in pod (its container netexecContainer) to
// send request to host:port over proto ("http" or "udp") tries times, each
// time on a new connection / source port, and returns the answers. The
// packets originate from the pod itself, so this is pod -> target traffic.
func (c *cluster) dial(ctx context.Context, pod *corev1.Pod, proto, request, host string, port, tries int) (dialResult, error) {
	q := url.Values{}
	q.Set("request", request)
	q.Set("protocol", proto)
	q.Set("host", host)
	q.Set("port", strconv.Itoa(port))
	q.Set("tries", strconv.Itoa(tries))
	// netexec waits up to 5 s per try.
	maxTime := strconv.Itoa(5*tries + 5)
	u := fmt.Sprintf("http://127.0.0.1:%d/dial?%s", httpPort, q.Encode())
	out, _, err := c.execIn(ctx, pod, netexecContainer, "curl", "-sS", "--max-time", maxTime, u)
	var r dialResult
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return r, fmt.Errorf("netexec /dial in %s returned %q: %v", pod.Name, oneLine(out, 200), err)
	}
	return r, nil
}

// hostOf returns the host part of "IP:port" as netexec's /clientip prints it.
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return strings.TrimSpace(addr)
	}
	return h
}

// inCIDR says whether ip is inside cidr.
func inCIDR(ip, cidr string) bool {
	_, n, err := net.ParseCIDR(cidr)
	a := net.ParseIP(ip)
	return err == nil && a != nil && n.Contains(a)
}

// errText is an observation for a failed command.
func errText(err error) string { return "error: " + oneLine(err.Error(), 400) }
