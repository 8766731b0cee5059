package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
)

// Ports of the authenticated metrics endpoints (chart defaults).
const (
	agentSecureMetricsPort      = 10349
	controllerSecureMetricsPort = 10350
	metricsReaderRole           = "kubefay-metrics-reader"
)

// TestMetricsScrapedInCluster: a pod of the cluster scrapes every agent and
// the controller over HTTPS with a ServiceAccount token bound to
// kubefay-metrics-reader (what a Prometheus in the cluster does). Each
// agent that started a pod shows a non-zero CNI ADD histogram; the
// controller's subnet usage equals the SubNet's status (`kubectl get
// subnet`). Attack checks: the same scrape without a token, and with a
// token of a ServiceAccount without the role, get no metrics.
func TestMetricsScrapedInCluster(t *testing.T) {
	e := setup(t, "metrics")
	ctx, cancel := context.WithTimeout(context.Background(), scaled(5*time.Minute))
	defer cancel()

	agent, err := e.agentPod(ctx, e.nodes[0].Name)
	if err != nil || agent == nil {
		t.Fatalf("agent pod on %s: %v", e.nodes[0].Name, err)
	}
	// the kubefay image (it ships curl) is on every node already
	scraper := basePod("scraper", e.nodes[0].Name, corev1.Container{
		Name: "scraper", Image: agent.Spec.Containers[0].Image, ImagePullPolicy: corev1.PullIfNotPresent,
		Command: []string{"/bin/sleep", "3600"},
	})
	pods := []*corev1.Pod{scraper}
	for i, n := range e.nodes {
		pods = append(pods, netexecPod(fmt.Sprintf("workload-%d", i), n.Name))
	}
	byName := e.createPods(pods...)
	scraperPod := byName["scraper"]

	reader := e.serviceAccountToken(ctx, "scraper", metricsReaderRole)
	stranger := e.serviceAccountToken(ctx, "stranger", "")

	// get scrapes url from the scraper pod; errors never carry the token
	get := func(token, url string) (string, error) {
		cmd := []string{"curl", "-sk", "--max-time", "10", "--fail-with-body"}
		if token != "" {
			cmd = append(cmd, "-H", "Authorization: Bearer "+token)
		}
		out, stderr, err := e.c.execIn(ctx, scraperPod, "scraper", append(cmd, url)...)
		if err != nil {
			code, _ := exitStatus(err)
			return "", fmt.Errorf("curl %s: exit status %d: %s %s", url, code, oneLine(out, 200), oneLine(stderr, 200))
		}
		return out, nil
	}

	for _, n := range e.nodes {
		url := fmt.Sprintf("https://%s:%d/metrics", n.IP, agentSecureMetricsPort)
		t.Run("agent "+n.Name, func(t *testing.T) {
			if _, err := get("", url); !refused(err) {
				t.Fatalf("anonymous scrape of %s: %v, want an HTTP refusal", url, err)
			}
			if _, err := get(stranger, url); !refused(err) {
				t.Fatalf("scrape of %s with a token without %s: %v, want an HTTP refusal", url, metricsReaderRole, err)
			}
			out, err := get(reader, url)
			if err != nil {
				t.Fatalf("scrape of %s with %s: %v", url, metricsReaderRole, err)
			}
			adds := sumSeries(out, "kubefay_cni_request_duration_seconds_count", `command="ADD"`)
			if adds == 0 {
				t.Fatalf("%s: no CNI ADD in kubefay_cni_request_duration_seconds after a pod started on the node", url)
			}
			t.Logf("%s: %d ADDs in the histogram", n.Name, int(adds))
		})
	}

	t.Run("controller", func(t *testing.T) {
		list, err := e.c.cs.CoreV1().Pods(agentNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=kubefay,component=controller"})
		if err != nil || len(list.Items) == 0 {
			t.Fatalf("controller pod: %v (%d found)", err, len(list.Items))
		}
		url := fmt.Sprintf("https://%s:%d/metrics", list.Items[0].Status.HostIP, controllerSecureMetricsPort)
		if _, err := get("", url); !refused(err) {
			t.Fatalf("anonymous scrape of %s: %v, want an HTTP refusal", url, err)
		}
		dc, err := dynamic.NewForConfig(e.c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, "controller's subnet usage equal to the SubNet's status", func(ctx context.Context) (bool, error) {
			sn, err := dc.Resource(subnetGVR).Get(ctx, "defaultnet", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			used, _, _ := unstructuredInt(sn.Object, "status", "used")
			avail, _, _ := unstructuredInt(sn.Object, "status", "available")
			out, err := get(reader, url)
			if err != nil {
				return false, err
			}
			gotUsed := sumSeries(out, "kubefay_subnet_used_ips", `subnet="defaultnet"`)
			gotAvail := sumSeries(out, "kubefay_subnet_available_ips", `subnet="defaultnet"`)
			if int64(gotUsed) != used || int64(gotAvail) != avail {
				return false, fmt.Errorf("metrics used %v available %v, SubNet status used %d available %d", gotUsed, gotAvail, used, avail)
			}
			return true, nil
		})
	})
}

// refused: curl --fail-with-body got an HTTP error status (exit 22: the
// server answered 401/403), not a connection failure.
func refused(err error) bool { return err != nil && strings.Contains(err.Error(), "exit status 22") }

// serviceAccountToken creates ServiceAccount name in the test's namespace,
// binds it to ClusterRole role (none when empty; the binding is removed when
// the test ends) and returns a token for it.
func (e *env) serviceAccountToken(ctx context.Context, name, role string) string {
	e.t.Helper()
	if _, err := e.c.cs.CoreV1().ServiceAccounts(e.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		e.t.Fatalf("service account %s: %v", name, err)
	}
	if role != "" {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: e.ns + "-" + name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: e.ns, Name: name}},
		}
		if _, err := e.c.cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
			e.t.Fatalf("bind %s to %s: %v", name, role, err)
		}
		e.t.Cleanup(func() {
			_ = e.c.cs.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb.Name, metav1.DeleteOptions{})
		})
	}
	tr, err := e.c.cs.CoreV1().ServiceAccounts(e.ns).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("token for %s: %v", name, err)
	}
	return tr.Status.Token
}

// sumSeries adds the values of metric's samples whose labels contain match.
func sumSeries(exposition, metric, match string) float64 {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(metric) + `(\{[^}]*\})? (\S+)`)
	var sum float64
	for _, line := range strings.Split(exposition, "\n") {
		m := re.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[1], match) {
			continue
		}
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// unstructuredInt reads an integer field of an unstructured object.
func unstructuredInt(obj map[string]any, path ...string) (int64, bool, error) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case int64:
		return v, true, nil
	case float64:
		return int64(v), true, nil
	}
	return 0, false, nil
}
