package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The NetworkPolicy truth table: namespaces x and y, pods a (node1) and b
// (node2) in each, every pod probing every pod on two TCP ports with a new
// connection. A scenario's expected matrix is compared with the observed
// one until they agree (policy programming is asynchronous) or a deadline
// passes; then both are printed, mismatches marked.

// Ports of a netpol pod: netexec on 8080 (named "serve-8080") and a second
// netexec on 8082 ("serve-8082").
const (
	npPortA, npPortB = 8080, 8082
	npNSLabel        = "e2e.kubefay.io/netpol-ns"
	npPodLabel       = "pod"
	npMatrixTimeout  = time.Minute
)

var npPorts = []int{npPortA, npPortB}

// npPod is one pod of the truth table: "x/a" etc.
type npPod struct {
	ns, short, key string // namespace, "a"/"b", "x/a"
	pod            *corev1.Pod
}

// npLab is the truth table's cluster: two namespaces, four pods.
type npLab struct {
	e        *env
	nsOf     map[string]string // "x" -> real namespace name
	pods     []*npPod
	policies map[string]string // policy name -> namespace, for cleanup
}

func npPodSpec(short, node string) *corev1.Pod {
	a := agnhostContainer("netexec", "netexec", fmt.Sprintf("--http-port=%d", npPortA), "--udp-port=8081")
	a.Ports = []corev1.ContainerPort{{Name: fmt.Sprintf("serve-%d", npPortA), ContainerPort: npPortA, Protocol: corev1.ProtocolTCP}}
	b := agnhostContainer("alt", "netexec", fmt.Sprintf("--http-port=%d", npPortB), "--udp-port=8083")
	b.Ports = []corev1.ContainerPort{{Name: fmt.Sprintf("serve-%d", npPortB), ContainerPort: npPortB, Protocol: corev1.ProtocolTCP}}
	p := basePod(short, node, a, b)
	p.Labels[npPodLabel] = short
	return p
}

// newNPLab creates namespaces x (the test's own) and y, labelled for
// namespace selectors, and the four pods.
func newNPLab(t *testing.T) *npLab {
	e := setup(t, "netpol-x")
	l := &npLab{e: e, nsOf: map[string]string{"x": e.ns, "y": createNamespace(t, e.c, "netpol-y")}}
	for short, ns := range l.nsOf {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, npNSLabel, short)
		_, err := e.c.cs.CoreV1().Namespaces().Patch(ctx, ns, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, nsShort := range []string{"x", "y"} {
		ne := &env{t: t, c: e.c, ns: l.nsOf[nsShort], nodes: e.nodes}
		pods := ne.createPods(npPodSpec("a", e.nodes[0].Name), npPodSpec("b", e.nodes[1].Name))
		for _, short := range []string{"a", "b"} {
			l.pods = append(l.pods, &npPod{ns: ne.ns, short: short, key: nsShort + "/" + short, pod: pods[short]})
		}
	}
	return l
}

// observe probes every (from, to, port) once: one exec per source pod runs
// all its connects in parallel (agnhost connect, 2 s timeout).
func (l *npLab) observe(ctx context.Context) (map[string]bool, error) {
	got := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(l.pods))
	for i, from := range l.pods {
		var targets []string
		for _, to := range l.pods {
			for _, port := range npPorts {
				targets = append(targets, fmt.Sprintf("%s:%d", to.pod.Status.PodIP, port))
			}
		}
		script := fmt.Sprintf(`for t in %s; do (if /agnhost connect "$t" --timeout=2s >/dev/null 2>&1; then echo "$t ok"; else echo "$t no"; fi) & done; wait`,
			strings.Join(targets, " "))
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _, err := l.e.c.execIn(ctx, from.pod, "netexec", "sh", "-c", script)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				f := strings.Fields(line)
				if len(f) == 2 {
					got[from.key+" "+l.keyOf(f[0])] = f[1] == "ok"
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return got, nil
}

// keyOf turns "IP:port" back into "x/a:port".
func (l *npLab) keyOf(target string) string {
	ip, port, _ := strings.Cut(target, ":")
	for _, p := range l.pods {
		if p.pod.Status.PodIP == ip {
			return p.key + ":" + port
		}
	}
	return target
}

// expect waits until the observed matrix equals want(from, to, port), or
// fails the test with both matrices.
func (l *npLab) expect(title string, want func(from, to *npPod, port int) bool) {
	t := l.e.t
	t.Helper()
	expected := map[string]bool{}
	for _, from := range l.pods {
		for _, to := range l.pods {
			for _, port := range npPorts {
				// a pod talking to itself never leaves its network namespace
				// (loopback): allowed whatever the policies say, as upstream's
				// netpol suite assumes too
				expected[fmt.Sprintf("%s %s:%d", from.key, to.key, port)] = from == to || want(from, to, port)
			}
		}
	}
	start := time.Now()
	var observed map[string]bool
	var lastErr error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), scaled(30*time.Second))
		observed, lastErr = l.observe(ctx)
		cancel()
		if lastErr == nil && sameMatrix(expected, observed) {
			t.Logf("%s: matrix as expected after %s (%d rounds)\n%s", title, time.Since(start).Round(100*time.Millisecond), attempt, l.render(expected, observed))
			return
		}
		if time.Since(start) > scaled(npMatrixTimeout) {
			break
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: observed connectivity differs from expected after %s (last probe error: %v)\n"+
		"cell = expected/observed, '.' connects, 'X' blocked, '!' marks a difference\n%s",
		title, scaled(npMatrixTimeout), lastErr, l.render(expected, observed))
}

func sameMatrix(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// render prints rows = source pods, columns = target pod:port.
func (l *npLab) render(expected, observed map[string]bool) string {
	mark := func(m map[string]bool, k string) string {
		v, ok := m[k]
		switch {
		case !ok:
			return "?"
		case v:
			return "."
		}
		return "X"
	}
	var cols []string
	for _, to := range l.pods {
		for _, port := range npPorts {
			cols = append(cols, fmt.Sprintf("%s:%d", to.key, port))
		}
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "  from \\ to\t%s\n", strings.Join(cols, "\t"))
	for _, from := range l.pods {
		cells := make([]string, len(cols))
		for i, c := range cols {
			k := from.key + " " + c
			e, o := mark(expected, k), mark(observed, k)
			cells[i] = e + "/" + o
			if e != o {
				cells[i] += "!"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\n", from.key, strings.Join(cells, "\t"))
	}
	tw.Flush()
	return b.String()
}

// podsStayReady checks that kubelet's readiness probes (node -> pod) still
// pass: policies never cut a node off from its pods.
func (l *npLab) podsStayReady() {
	t := l.e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var notReady []string
	for _, p := range l.pods {
		cur, err := l.e.c.cs.CoreV1().Pods(p.ns).Get(ctx, p.pod.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !podReady(cur) {
			notReady = append(notReady, p.key)
		}
	}
	sort.Strings(notReady)
	if len(notReady) > 0 {
		t.Fatalf("pods lost readiness under policy (node -> pod probes must pass): %v", notReady)
	}
}
