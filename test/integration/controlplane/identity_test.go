package controlplane

import (
	"context"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// installManifests creates, as admin, the objects of the given kinds in
// build/yamls/kubefay.yml (the Helm chart's default render): what an install
// applies. The CRDs are installed by setup.
func (e *env) installManifests(t *testing.T, kinds ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, kind := range kinds {
		want[kind] = true
	}
	for _, o := range installObjects(t) {
		if !want[o.GetKind()] {
			continue
		}
		if err := e.c.Create(context.Background(), o); err != nil {
			t.Fatalf("install %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

// agentToken returns a kubefay-agent token bound to a pod on node, as the
// agent's projected token is: it carries the node's name.
func (e *env) agentToken(t *testing.T, node string) string {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: agentNamespace, Name: "agent-" + node},
		Spec: corev1.PodSpec{NodeName: node, ServiceAccountName: "kubefay-agent",
			Containers: []corev1.Container{{Name: "agent", Image: "kubefay/kubefay:dev"}}}}
	e.create(t, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}}, pod)
	tok := e.saToken(t, "kubefay-agent", &authnv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID})
	review, err := e.clientset(t, tok).AuthenticationV1().SelfSubjectReviews().Create(context.Background(), &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := review.Status.UserInfo.Extra["authentication.kubernetes.io/node-name"]; len(got) != 1 || got[0] != node {
		t.Fatalf("token bound to a pod on %s has node-name %v", node, got)
	}
	return tok
}

// saToken requests a token of service account name in kube-system.
func (e *env) saToken(t *testing.T, name string, bound *authnv1.BoundObjectReference) string {
	t.Helper()
	tr, err := e.clientset(t, "").CoreV1().ServiceAccounts(agentNamespace).CreateToken(context.Background(), name,
		&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{BoundObjectRef: bound}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// clientset returns a clientset with bearer token tok ("" = admin).
func (e *env) clientset(t *testing.T, tok string) *kubernetes.Clientset {
	t.Helper()
	cfg := rest.CopyConfig(e.cfg)
	if tok != "" {
		cfg.BearerToken = tok
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (e *env) clientWithToken(t *testing.T, tok string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(e.cfg)
	cfg.BearerToken = tok
	c, err := client.New(cfg, client.Options{Scheme: e.scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
