package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Service ports: TCP 80 -> netexec 8080, UDP 81 -> netexec 8081.
const (
	svcHTTPPort = 80
	svcUDPPort  = 81
)

// createService creates a Service of type typ selecting selector, with the
// ports above, and waits (bounded) until its EndpointSlices list exactly the
// ready addresses of backends.
func (e *env) createService(name string, typ corev1.ServiceType, selector map[string]string, backends ...*corev1.Pod) *corev1.Service {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := e.c.cs.CoreV1().Services(e.ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Type:     typ,
			Selector: selector,
			Ports: []corev1.ServicePort{
				{Name: "http", Protocol: corev1.ProtocolTCP, Port: svcHTTPPort, TargetPort: intstr.FromInt32(httpPort)},
				{Name: "udp", Protocol: corev1.ProtocolUDP, Port: svcUDPPort, TargetPort: intstr.FromInt32(udpPort)},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatalf("create %s service %s/%s: %v", typ, e.ns, name, err)
	}
	if !inCIDR(svc.Spec.ClusterIP, serviceCIDR) {
		e.t.Errorf("service %s: expected a ClusterIP in %s, got %q", name, serviceCIDR, svc.Spec.ClusterIP)
	}
	var want []string
	for _, b := range backends {
		want = append(want, b.Status.PodIP)
	}
	sort.Strings(want)
	e.waitEndpoints(name, want, time.Minute)
	return svc
}

// waitEndpoints waits until the ready endpoint addresses of service are
// exactly want.
func (e *env) waitEndpoints(service string, want []string, timeout time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got []string
	for {
		list, err := e.c.cs.DiscoveryV1().EndpointSlices(e.ns).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=" + service,
		})
		if err == nil {
			got = nil
			for _, s := range list.Items {
				for _, ep := range s.Endpoints {
					if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
						got = append(got, ep.Addresses...)
					}
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") == strings.Join(want, ",") {
				return
			}
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("service %s: expected ready endpoints %v within %s, observed %v (list error: %v)", service, want, timeout, got, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// spread sends tries requests from client to host:port (each on a new
// connection or source port, through netexec /dial) and describes the answers
// as "name xN, ...". It stops early when a single try fails, so a broken
// path costs one timeout, not tries of them.
func (e *env) spread(ctx context.Context, client *corev1.Pod, proto, host string, port, tries int) (hist map[string]int, observed string, err error) {
	first, err := e.c.dial(ctx, client, proto, "hostname", host, port, 1)
	if err != nil {
		return nil, "", err
	}
	if len(first.Responses) != 1 {
		return nil, fmt.Sprintf("first request failed: responses %q errors %q", first.Responses, first.Errors), nil
	}
	r, err := e.c.dial(ctx, client, proto, "hostname", host, port, tries-1)
	if err != nil {
		return nil, "", err
	}
	hist = map[string]int{first.Responses[0]: 1}
	for _, a := range r.Responses {
		hist[a]++
	}
	var parts []string
	for k, v := range hist {
		parts = append(parts, fmt.Sprintf("%s x%d", k, v))
	}
	sort.Strings(parts)
	observed = strings.Join(parts, ", ")
	if len(r.Errors) > 0 {
		observed += fmt.Sprintf("; %d of %d requests failed: %s", len(r.Errors), tries, oneLine(r.Errors[0], 200))
	}
	return hist, observed, nil
}
