package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func TestSubnetList(t *testing.T) {
	invalid := &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "broken"},
		Spec: v1alpha1.SubNetSpec{CIDR: "not-a-cidr"}, Status: v1alpha1.SubNetStatus{Gateway: "10.1.0.1"}}
	tests := []struct {
		name       string
		objs       []client.Object
		args       []string
		want       string
		wantStderr string
	}{{
		name: "usage from blocks, namespaces by annotation and spec",
		objs: fixture(),
		args: []string{"subnet", "list"},
		want: dedent(`
NAME         CIDR            GATEWAY        USED   AVAILABLE   NAMESPACES             PRIVATE
defaultnet   10.192.0.0/16   10.192.0.1     4      65529       -                      false
newnet       10.182.0.0/24   10.182.0.254   1      241         team-a,team-b,team-c   true
`),
	}, {
		name: "alias and invalid subnet",
		objs: append(fixture(), invalid),
		args: []string{"sn", "ls"},
		want: dedent(`
NAME         CIDR            GATEWAY        USED   AVAILABLE   NAMESPACES             PRIVATE
broken       not-a-cidr      10.1.0.1       0      <invalid>   -                      false
defaultnet   10.192.0.0/16   10.192.0.1     4      65529       -                      false
newnet       10.182.0.0/24   10.182.0.254   1      241         team-a,team-b,team-c   true
`),
	}, {
		name:       "no subnets",
		args:       []string{"subnet", "list"},
		want:       "",
		wantStderr: "warning: no subnets found\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stderr, err := run(t, tt.objs, tt.args...)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", got, tt.want)
			}
			if stderr != tt.wantStderr {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
		})
	}
}

// TestSubnetListNamespacesForbidden: without the right to list namespaces
// the plugin warns and falls back to spec.namespaces.
func TestSubnetListNamespacesForbidden(t *testing.T) {
	s, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(fixture()...).WithInterceptorFuncs(interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			if _, ok := list.(*corev1.NamespaceList); ok {
				return errors.New("namespaces is forbidden")
			}
			return c.List(ctx, list, opts...)
		},
	}).Build()
	var out, errOut strings.Builder
	o := &Options{Out: &out, ErrOut: &errOut, NewClient: func() (client.Reader, error) { return c, nil }}
	cmd := NewCommand(o)
	cmd.SetArgs([]string{"subnet", "list"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(trimLines(out.String()), "newnet       10.182.0.0/24   10.182.0.254   1      241         team-b       true") {
		t.Errorf("want newnet with spec namespaces only, got:\n%s", out.String())
	}
	if want := "warning: cannot list namespaces (namespaces is forbidden): showing spec.namespaces only\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
}
