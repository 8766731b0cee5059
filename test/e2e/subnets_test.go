package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/dynamic"
)

var subnetGVR = schema.GroupVersionResource{Group: "kubefay.kubefay.github.com", Version: "v1alpha1", Resource: "subnets"}

// createSubnet creates a SubNet (deleted in t.Cleanup) and returns its name.
func createSubnet(t *testing.T, c *cluster, cidr string, extra ...map[string]any) string {
	t.Helper()
	dc, err := dynamic.NewForConfig(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := "e2e-" + utilrand.String(5)
	if err := postSubnet(dc, name, cidr, extra...); err != nil {
		t.Fatalf("create SubNet %s (%s): %v", name, cidr, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = dc.Resource(subnetGVR).Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

// annotatedNamespace creates a namespace whose pods use subnet.
func (e *env) annotatedNamespace(prefix, subnet string) *env {
	e.t.Helper()
	ns := createNamespace(e.t, e.c, prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"subnet":%q}}}`, subnet)
	if _, err := e.c.cs.CoreV1().Namespaces().Patch(ctx, ns, "application/merge-patch+json", []byte(patch), metav1.PatchOptions{}); err != nil {
		e.t.Fatal(err)
	}
	// pods are refused until the ServiceAccount controller made "default"
	eventually(e.t, 30*time.Second, "ServiceAccount default in "+ns, func(ctx context.Context) (bool, error) {
		_, err := e.c.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	return &env{t: e.t, c: e.c, ns: ns, nodes: e.nodes}
}

// TestSubnetsPerNamespace: a namespace annotated `subnet: X` gets addresses
// from X, a pod's `IPv4` annotation is honoured, and every pod reaches every
// other pod whatever their subnets and nodes (switched within a subnet,
// routed between subnets, tunnelled between nodes).
func TestSubnetsPerNamespace(t *testing.T) {
	e := setup(t, "subnets")
	const cidr, static = "10.150.0.0/16", "10.150.255.253"
	sn := createSubnet(t, e.c, cidr)
	eb := e.annotatedNamespace("subnets-b", sn)

	var specsA, specsB []*corev1.Pod
	for _, n := range e.nodes {
		specsA = append(specsA, netexecPod("a-"+n.Name, n.Name))
		specsB = append(specsB, netexecPod("b-"+n.Name, n.Name))
	}
	specsB[len(specsB)-1].Annotations = map[string]string{"IPv4": static}
	podsA := e.createPods(specsA...)
	podsB := eb.createPods(specsB...)

	type member struct {
		pod  *corev1.Pod
		cidr string
	}
	var all []member
	for _, p := range podsA {
		all = append(all, member{p, defaultSubnetCIDR})
	}
	for _, p := range podsB {
		all = append(all, member{p, cidr})
	}
	var outs []outcome
	for _, m := range all {
		ok := inCIDR(m.pod.Status.PodIP, m.cidr)
		outs = append(outs, outcome{probe: probe{kind: "subnet addressing", from: m.pod.Namespace + "/" + m.pod.Name, to: "status.podIP",
			expect: "an address in " + m.cidr}, observed: m.pod.Status.PodIP, ok: ok, attempts: 1})
	}
	last := podsB["b-"+e.nodes[len(e.nodes)-1].Name]
	outs = append(outs, outcome{probe: probe{kind: "static IP", from: last.Name, to: "annotation IPv4",
		expect: static}, observed: last.Status.PodIP, ok: last.Status.PodIP == static, attempts: 1})

	var probes []probe
	for _, s := range all {
		for _, d := range all {
			if s.pod == d.pod {
				continue
			}
			src, dst := s.pod, d.pod
			kind := "same subnet"
			if s.cidr != d.cidr {
				kind = "cross subnet"
			}
			if src.Spec.NodeName != dst.Spec.NodeName {
				kind += ", cross node"
			}
			probes = append(probes, probe{kind: "http /hostname (" + kind + ")",
				from: src.Namespace + "/" + src.Name, to: dst.Namespace + "/" + dst.Name,
				expect: fmt.Sprintf("%q", dst.Name),
				run: func(ctx context.Context) (string, bool) {
					body, err := e.c.curl(ctx, src, netexecContainer, fmt.Sprintf("http://%s:%d/hostname", dst.Status.PodIP, httpPort))
					if err != nil {
						return errText(err), false
					}
					return fmt.Sprintf("%q", body), body == dst.Name
				}})
		}
	}
	outs = append(outs, runProbes(probes, probeWindow)...)
	reportProbes(t, "subnets", outs)
}

// TestSubnetErrorsBecomeEvents: a static IP already held by a live pod and a
// namespace annotated with a subnet that does not exist leave the pod
// without a network and with a Warning event that says why (naming the
// holder pod / the missing subnet); a subnet that overlaps another one, the
// services or the nodes is refused at creation.
func TestSubnetErrorsBecomeEvents(t *testing.T) {
	e := setup(t, "subnet-errors")
	holder := netexecPod("holder", e.nodes[0].Name)
	holder.Annotations = map[string]string{"IPv4": "10.192.255.250"}
	e.createPods(holder)

	thief := netexecPod("thief", e.nodes[1].Name)
	thief.Annotations = map[string]string{"IPv4": "10.192.255.250"}
	e.createPodsNoWait(thief)
	e.waitEvent("thief", "holder", 2*time.Minute)

	bad := e.annotatedNamespace("subnet-missing", "no-such-subnet")
	bad.createPodsNoWait(netexecPod("lost", e.nodes[0].Name))
	bad.waitEvent("lost", "no-such-subnet", 2*time.Minute)

	// a subnet overlapping another subnet, the service range or the node
	// network is refused by the apiserver, naming what it overlaps
	for _, c := range []struct{ cidr, want string }{
		{"10.192.200.0/24", "overlaps SubNet defaultnet (10.192.0.0/16)"},
		{"10.192.0.0/12", "overlaps SubNet defaultnet (10.192.0.0/16)"}, // around it
		{"10.96.128.0/24", "overlaps the service range of ServiceCIDR kubernetes"},
		{"198.51.100.0/25", "contains an address of Node"},
	} {
		err := tryCreateSubnet(e.c, c.cidr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SubNet %s: created or refused for another reason (%v); want a refusal containing %q", c.cidr, err, c.want)
		}
	}
}

// tryCreateSubnet creates a SubNet with cidr and returns the apiserver's
// answer; a SubNet that got created anyway is deleted at once.
func tryCreateSubnet(c *cluster, cidr string) error {
	dc, err := dynamic.NewForConfig(c.cfg)
	if err != nil {
		return err
	}
	name := "e2e-refused-" + utilrand.String(5)
	err = postSubnet(dc, name, cidr)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = dc.Resource(subnetGVR).Delete(ctx, name, metav1.DeleteOptions{})
	}
	return err
}

// postSubnet creates SubNet name (ipVersion v4, cidr, plus extra spec
// fields) and returns the apiserver's answer.
func postSubnet(dc dynamic.Interface, name, cidr string, extra ...map[string]any) error {
	spec := map[string]any{"ipVersion": "v4", "cidr": cidr}
	for _, m := range extra {
		for k, v := range m {
			spec[k] = v
		}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubefay.kubefay.github.com/v1alpha1", "kind": "SubNet",
		"metadata": map[string]any{"name": name}, "spec": spec,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := dc.Resource(subnetGVR).Create(ctx, obj, metav1.CreateOptions{})
	return err
}

// createPodsNoWait creates pods in e's namespace without waiting for them.
func (e *env) createPodsNoWait(pods ...*corev1.Pod) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range pods {
		p.Namespace = e.ns
		if _, err := e.c.cs.CoreV1().Pods(e.ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			e.t.Fatalf("create pod %s/%s: %v", e.ns, p.Name, err)
		}
	}
}

// waitEvent waits for a Warning event on pod whose message contains want.
func (e *env) waitEvent(pod, want string, timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []string
	for time.Now().Before(deadline) {
		seen = e.podEvents(pod, 20)
		for _, ev := range seen {
			if strings.HasPrefix(ev, "Warning") && strings.Contains(ev, want) {
				e.t.Logf("pod %s/%s: %s", e.ns, pod, ev)
				return
			}
		}
		time.Sleep(time.Second)
	}
	e.t.Fatalf("pod %s/%s: expected a Warning event mentioning %q within %s; events:\n  %s",
		e.ns, pod, want, timeout, strings.Join(seen, "\n  "))
}

// TestPrivateSubnetIsolation: pods of a private subnet talk to each other
// and open connections to other subnets (the replies come back), their own
// node reaches them (kubelet readiness probes: the pods become Ready), but
// pods of another subnet cannot open connections to them.
func TestPrivateSubnetIsolation(t *testing.T) {
	e := setup(t, "private")
	sn := createSubnet(t, e.c, "10.151.0.0/16", map[string]any{"private": true})
	ep := e.annotatedNamespace("private-p", sn)
	var specsP, specsO []*corev1.Pod
	for _, n := range e.nodes {
		specsP = append(specsP, netexecPod("p-"+n.Name, n.Name))
		specsO = append(specsO, netexecPod("o-"+n.Name, n.Name))
	}
	podsP := ep.createPods(specsP...) // Ready: the node's probes got through
	podsO := e.createPods(specsO...)

	fetch := func(src, dst *corev1.Pod, wantOK bool) probe {
		expect := fmt.Sprintf("%q", dst.Name)
		if !wantOK {
			expect = "no answer (isolated)"
		}
		return probe{kind: "http /hostname", from: src.Namespace + "/" + src.Name, to: dst.Namespace + "/" + dst.Name,
			expect: expect,
			run: func(ctx context.Context) (string, bool) {
				body, err := e.c.curl(ctx, src, netexecContainer, fmt.Sprintf("http://%s:%d/hostname", dst.Status.PodIP, httpPort))
				if err != nil {
					return errText(err), !wantOK
				}
				return fmt.Sprintf("%q", body), wantOK && body == dst.Name
			}}
	}
	var allowed, denied []probe
	for _, p := range podsP {
		for _, q := range podsP {
			if p != q {
				allowed = append(allowed, fetch(p, q, true))
			}
		}
		for _, o := range podsO {
			allowed = append(allowed, fetch(p, o, true)) // private -> other: replies pass
			denied = append(denied, fetch(o, p, false))  // other -> private: new connections dropped
		}
	}
	ok := reportProbes(t, "private subnet: allowed", runProbes(allowed, probeWindow))
	// denied probes only count once the allowed ones showed the network works
	if ok {
		reportProbes(t, "private subnet: denied", runProbes(denied, probeWindow))
	}
}
