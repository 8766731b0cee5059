package controlplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/httpserve"
	"github.com/kubefay/kubefay/pkg/metricsauth"
)

// scrapers are the identities the secure metrics endpoints are tried with.
type scrapers struct {
	reader, intruder, agent string // bearer tokens
}

// metricsScrapers installs the chart's RBAC (kubefay-metrics-reader among
// it) and returns the tokens of a ServiceAccount bound to that ClusterRole
// (as a Prometheus would be), of one without any role, and of the agent
// (whose role does not include /metrics).
func metricsScrapers(t *testing.T, e *env) scrapers {
	t.Helper()
	e.installManifests(t, "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
	e.create(t, podNamespace("monitoring")...)
	e.create(t,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "prometheus"}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "monitoring", Name: "intruder"}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "prometheus-kubefay"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubefay-metrics-reader"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "monitoring", Name: "prometheus"}}},
	)
	token := func(name string) string {
		tr, err := e.clientset(t, "").CoreV1().ServiceAccounts("monitoring").CreateToken(context.Background(), name,
			&authnv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	return scrapers{reader: token("prometheus"), intruder: token("intruder"), agent: e.saToken(t, "kubefay-agent", nil)}
}

// asServiceAccount is the API server config of e with a token of
// ServiceAccount name in the install's namespace, as its pod would have.
func (e *env) asServiceAccount(t *testing.T, name string) *rest.Config {
	cfg := rest.CopyConfig(e.cfg)
	cfg.BearerToken = e.saToken(t, name, nil)
	return cfg
}

// scrape GETs url over TLS without verifying the self-signed certificate,
// with bearer token tok when not empty.
func scrape(t *testing.T, url, tok string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed, as in the cluster
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// checkScrapes: anonymous, a forged token, a token of a subject without
// the reader role are refused; the reader gets the Prometheus text with
// wantMetric in it.
func checkScrapes(t *testing.T, url string, s scrapers, wantMetric string) {
	for _, tt := range []struct {
		name, tok  string
		wantStatus int
	}{
		{"anonymous", "", http.StatusUnauthorized},
		// controller-runtime's filter answers 500 "Authentication failed"
		// when the TokenReview reports an error, as it does for a token it
		// cannot parse or verify: refused all the same
		{"forged token", "not-a-token", http.StatusInternalServerError},
		{"service account without the reader role", s.intruder, http.StatusForbidden},
		{"the agent's own service account", s.agent, http.StatusForbidden},
		{"kubefay-metrics-reader", s.reader, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := scrape(t, url, tt.tok)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", status, tt.wantStatus, body)
			}
			if status == http.StatusOK && !strings.Contains(body, "# TYPE "+wantMetric+" ") {
				t.Fatalf("no %s in the scrape:\n%.2000s", wantMetric, body)
			}
			if status != http.StatusOK && strings.Contains(body, wantMetric) {
				t.Fatalf("a refused scrape shows metrics: %.300s", body)
			}
		})
	}
}

// TestAgentSecureMetrics: the agent's HTTPS /metrics, with the agent's own
// ServiceAccount reviewing tokens under the install's RBAC, serves only a
// token allowed to get /metrics.
func TestAgentSecureMetrics(t *testing.T) {
	e := setup(t)
	s := metricsScrapers(t, e)
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "kubefay_test_scrapes_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	h, err := agent.SecureMetricsHandler(e.asServiceAccount(t, "kubefay-agent"), reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := metricsauth.ListenTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	httpserve.Serve(ctx, ln, h, "test metrics server")
	checkScrapes(t, "https://"+ln.Addr().String()+"/metrics", s, "kubefay_test_scrapes_total")
}

// TestControllerSecureMetrics: the controller's manager, run as
// kubefay-controller with a secure metrics address, serves its metrics
// there to the reader only, and still serves them plain on the loopback
// metrics address.
func TestControllerSecureMetrics(t *testing.T) {
	e := setup(t)
	s := metricsScrapers(t, e)
	secure, plain := freeAddr(t), freeAddr(t)
	cfg := &controller.Config{
		DefaultSubnet:  controller.SubnetConfig{Name: "defaultnet", CIDR: "10.192.0.0/16"},
		MetricsAddress: plain, SecureMetricsAddress: secure, HealthAddress: "0",
	}
	cfg.Default()
	cfg.LeaderElection.Namespace = agentNamespace
	e.startManager(t, e.asServiceAccount(t, "kubefay-controller"), cfg)
	const want = "kubefay_ipam_gc_released_allocations_total"
	eventually(t, 30*time.Second, func() string {
		resp, err := http.Get("http://" + plain + "/metrics")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			return fmt.Sprintf("plain metrics: %d %.300s", resp.StatusCode, body)
		}
		return ""
	})
	eventually(t, 30*time.Second, func() string {
		if c, err := net.Dial("tcp", secure); err != nil {
			return err.Error()
		} else {
			c.Close()
		}
		return ""
	})
	checkScrapes(t, "https://"+secure+"/metrics", s, want)

	// the SubNet's usage, as `kubectl get subnet` shows it
	eventually(t, 30*time.Second, func() string {
		var sn v1alpha1.SubNet
		if err := e.c.Get(context.Background(), client.ObjectKey{Name: "defaultnet"}, &sn); err != nil {
			return err.Error()
		}
		if sn.Status.Available == 0 {
			return "defaultnet has no status yet"
		}
		_, body := scrape(t, "https://"+secure+"/metrics", s.reader)
		for _, line := range []string{
			fmt.Sprintf(`kubefay_subnet_used_ips{subnet="defaultnet"} %d`, sn.Status.Used),
			fmt.Sprintf(`kubefay_subnet_available_ips{subnet="defaultnet"} %d`, sn.Status.Available),
			fmt.Sprintf(`kubefay_subnet_capacity_ips{subnet="defaultnet"} %d`, sn.Status.Used+sn.Status.Available),
		} {
			if !strings.Contains(body, line+"\n") {
				return "scrape lacks " + line
			}
		}
		return ""
	})
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
