package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
)

func testScheme(t testing.TB) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// podObj is a live pod of namespace ns whose UID is what req gives it.
func podObj(name string, mod ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)}}
	for _, m := range mod {
		m(p)
	}
	return p
}

func fakeClient(t testing.TB, objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(testScheme(t)).WithIndex(&v1alpha1.IPAMBlock{}, BlockSubnetField, BlockSubnet).WithObjects(objs...).Build()
}

func req(node, pod string, mod ...func(*Request)) Request {
	r := Request{Subnet: "net", Node: node, Namespace: "ns", Pod: pod, PodUID: "uid-" + pod, ContainerID: "c-" + pod, Interface: "eth0"}
	for _, m := range mod {
		m(&r)
	}
	return r
}

func static(ip string) func(*Request) {
	return func(r *Request) { r.StaticIP = netip.MustParseAddr(ip) }
}

func listBlocks(t testing.TB, c client.Client) map[string]v1alpha1.IPAMBlock {
	t.Helper()
	l := &v1alpha1.IPAMBlockList{}
	if err := c.List(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	out := map[string]v1alpha1.IPAMBlock{}
	for _, b := range l.Items {
		out[b.Name] = b
	}
	return out
}

// step is one call in a scenario; want is the address or the error reason.
type step struct {
	req     Request
	release string // container ID to release instead of allocating
	want    string
	wantErr Reason
	errHas  string
}

// runSteps performs steps in order on a: a release, or an allocation that
// must fail with wantErr (message containing errHas) or give want; check,
// when not nil, looks further at each successful allocation.
func runSteps(t *testing.T, a *Allocator, steps []step, check func(i int, res Result)) {
	t.Helper()
	ctx := context.Background()
	for i, s := range steps {
		if s.release != "" {
			if err := a.Release(ctx, s.release, ""); err != nil {
				t.Fatalf("step %d: Release: %v", i, err)
			}
			continue
		}
		res, err := a.Allocate(ctx, s.req)
		if s.wantErr != "" {
			if !IsReason(err, s.wantErr) || !strings.Contains(fmt.Sprint(err), s.errHas) {
				t.Fatalf("step %d: err = %v, want %s containing %q", i, err, s.wantErr, s.errHas)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, s.req.Pod, err)
		}
		if res.IP.String() != s.want {
			t.Fatalf("step %d (%s): got %s, want %s", i, s.req.Pod, res.IP, s.want)
		}
		if check != nil {
			check(i, res)
		}
	}
}

func TestAllocateScenarios(t *testing.T) {
	tests := []struct {
		name   string
		subnet *v1alpha1.SubNet
		// pods exist (live holders)
		pods  []string
		steps []step
		// blocks: block name -> owner node after the steps
		blocks map[string]string
	}{
		{
			name:   "dynamic addresses come from the node's block, lowest first",
			subnet: subnetObj("net", "10.0.0.0/24"),
			steps: []step{
				{req: req("n1", "a"), want: "10.0.0.2"},
				{req: req("n1", "b"), want: "10.0.0.3"},
				{req: req("n1", "a"), want: "10.0.0.2"}, // idempotent
			},
			blocks: map[string]string{"net.10-0-0-0-26": "n1"},
		},
		{
			name:   "each node claims its own block",
			subnet: subnetObj("net", "10.0.0.0/25"),
			steps: []step{
				{req: req("n1", "a"), want: "10.0.0.2"},
				{req: req("n2", "b"), want: "10.0.0.64"},
				{req: req("n1", "c"), want: "10.0.0.3"},
			},
			blocks: map[string]string{"net.10-0-0-0-26": "n1", "net.10-0-0-64-26": "n2"},
		},
		{
			name:   "excludeIPs are never handed out",
			subnet: subnetObj("net", "10.0.0.0/26", func(s *v1alpha1.SubNetSpec) { s.ExcludeIPs = []string{"10.0.0.2..10.0.0.4"} }),
			steps:  []step{{req: req("n1", "a"), want: "10.0.0.5"}},
		},
		{
			name:   "a full node block: borrow from another node's block",
			subnet: subnetObj("net", "10.0.0.0/29", func(s *v1alpha1.SubNetSpec) { s.BlockSize = 30 }),
			steps: []step{
				{req: req("n1", "a"), want: "10.0.0.2"},
				{req: req("n1", "b"), want: "10.0.0.3"},
				{req: req("n2", "c"), want: "10.0.0.4"},
				{req: req("n1", "d"), want: "10.0.0.5"}, // n2's block
				{req: req("n1", "e"), want: "10.0.0.6"},
				{req: req("n2", "f"), wantErr: ReasonSubnetFull, errHas: `subnet "net" (10.0.0.0/29) is full: all 5 allocatable addresses are in use`},
				{release: "c-b"},
				{req: req("n2", "f"), want: "10.0.0.3"},
			},
			blocks: map[string]string{"net.10-0-0-0-30": "n1", "net.10-0-0-4-30": "n2"},
		},
		{
			name:   "static addresses",
			subnet: subnetObj("net", "10.0.0.0/24", func(s *v1alpha1.SubNetSpec) { s.ExcludeIPs = []string{"10.0.0.200"} }),
			pods:   []string{"a", "e"},
			steps: []step{
				{req: req("n1", "a", static("10.0.0.100")), want: "10.0.0.100"},
				{req: req("n1", "a", static("10.0.0.100")), want: "10.0.0.100"},
				{req: req("n2", "b", static("10.0.0.100")), wantErr: ReasonIPInUse, errHas: "in use by pod ns/a (container c-a, interface eth0, node \"n1\")"},
				{req: req("n1", "c", static("10.0.1.1")), wantErr: ReasonIPOutOfRange, errHas: `static IP 10.0.1.1 is outside subnet "net" (10.0.0.0/24)`},
				{req: req("n1", "c", static("10.0.0.1")), wantErr: ReasonIPReserved, errHas: "is the gateway"},
				{req: req("n1", "c", static("10.0.0.255")), wantErr: ReasonIPReserved, errHas: "broadcast"},
				{req: req("n1", "c", static("10.0.0.200")), wantErr: ReasonIPExcluded, errHas: "excludeIPs"},
				// a new sandbox of the same pod takes its address over
				{req: req("n1", "a", static("10.0.0.100"), func(r *Request) { r.ContainerID = "c-a2" }), want: "10.0.0.100"},
				// dynamic allocation on n1 skips the static address in its block
				{req: req("n1", "d"), want: "10.0.0.64"},
				// a static address inside another node's block
				{req: req("n2", "e", static("10.0.0.70")), want: "10.0.0.70"},
			},
			blocks: map[string]string{"net.10-0-0-64-26": "n1"},
		},
		{
			name:   "missing subnet",
			subnet: subnetObj("other", "10.0.0.0/24"),
			steps:  []step{{req: req("n1", "a"), wantErr: ReasonSubnetNotFound, errHas: `subnet "net" does not exist`}},
		},
		{
			name:   "invalid request",
			subnet: subnetObj("net", "10.0.0.0/24"),
			steps:  []step{{req: req("", "a", func(r *Request) { r.ContainerID = "" }), wantErr: ReasonInvalidRequest, errHas: "lacks [node containerID]"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := []client.Object{tt.subnet}
			for _, p := range tt.pods {
				objs = append(objs, podObj(p))
			}
			c := fakeClient(t, objs...)
			runSteps(t, New(c, Options{}), tt.steps, func(i int, res Result) {
				if res.Prefix.Bits() != mustSubnet(t, tt.subnet).CIDR.Bits() || res.Prefix.Addr() != res.IP || res.Gateway != mustSubnet(t, tt.subnet).Gateway {
					t.Fatalf("step %d: result %+v", i, res)
				}
			})
			blocks := listBlocks(t, c)
			for name, node := range tt.blocks {
				if b, ok := blocks[name]; !ok || b.Spec.Node != node {
					t.Errorf("block %s: %+v, want owned by %s", name, b.Spec, node)
				}
			}
			assertUnique(t, blocks)
		})
	}
}

// assertUnique fails if an allocation key holds two addresses.
func assertUnique(t testing.TB, blocks map[string]v1alpha1.IPAMBlock) int {
	t.Helper()
	keys := map[string]string{}
	n := 0
	for _, b := range blocks {
		for ip, al := range b.Spec.Allocations {
			k := al.ContainerID + "/" + al.Interface
			if other, ok := keys[k]; ok {
				t.Errorf("%s holds %s and %s", k, other, ip)
			}
			keys[k] = ip
			n++
		}
	}
	return n
}

func TestStaticInOtherNodesBlockRecordsPodNode(t *testing.T) {
	ctx := context.Background()
	c := fakeClient(t, subnetObj("net", "10.0.0.0/24"))
	a := New(c, Options{})
	if _, err := a.Allocate(ctx, req("n1", "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Allocate(ctx, req("n2", "b", static("10.0.0.9"))); err != nil {
		t.Fatal(err)
	}
	b := listBlocks(t, c)["net.10-0-0-0-26"]
	al := b.Spec.Allocations["10.0.0.9"]
	if b.Spec.Node != "n1" || al.Node != "n2" || !al.Static || al.Pod != "b" || al.PodUID != "uid-b" || al.Created.IsZero() {
		t.Fatalf("block %s node %s, allocation %+v", b.Name, b.Spec.Node, al)
	}
}

func TestReleaseAndReleasePod(t *testing.T) {
	ctx := context.Background()
	c := fakeClient(t, subnetObj("net", "10.0.0.0/24"))
	a := New(c, Options{})
	for _, r := range []Request{
		req("n1", "a"),
		req("n1", "a", func(r *Request) { r.Interface = "net1" }),
		req("n1", "b"),
		req("n1", "c"),
	} {
		if _, err := a.Allocate(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int { return assertUnique(t, listBlocks(t, c)) }
	if n := count(); n != 4 {
		t.Fatalf("%d allocations", n)
	}
	if err := a.Release(ctx, "c-a", "net1"); err != nil || count() != 3 {
		t.Fatalf("Release one interface: %v, %d left", err, count())
	}
	if err := a.Release(ctx, "c-b", ""); err != nil || count() != 2 {
		t.Fatalf("Release container: %v, %d left", err, count())
	}
	if err := a.Release(ctx, "unknown", "eth0"); err != nil || count() != 2 {
		t.Fatalf("Release unknown: %v, %d left", err, count())
	}
	if err := a.ReleasePod(ctx, "ns", "c"); err != nil || count() != 1 {
		t.Fatalf("ReleasePod: %v, %d left", err, count())
	}
	if err := a.Release(ctx, "", ""); !IsReason(err, ReasonInvalidRequest) {
		t.Fatalf("Release without ID: %v", err)
	}
}

// staleReader serves a snapshot of the blocks taken earlier, like an
// informer cache that lags behind.
type staleReader struct {
	client.Reader
	blocks []v1alpha1.IPAMBlock
}

func (s staleReader) List(ctx context.Context, l client.ObjectList, opts ...client.ListOption) error {
	bl, ok := l.(*v1alpha1.IPAMBlockList)
	if !ok {
		return s.Reader.List(ctx, l, opts...)
	}
	bl.Items = nil
	for _, b := range s.blocks {
		bl.Items = append(bl.Items, *b.DeepCopy())
	}
	return nil
}

func TestStaleCacheNeverDuplicates(t *testing.T) {
	ctx := context.Background()
	c := fakeClient(t, subnetObj("net", "10.0.0.0/24"))
	first := New(c, Options{})
	if _, err := first.Allocate(ctx, req("n1", "a")); err != nil {
		t.Fatal(err)
	}
	var snapshot []v1alpha1.IPAMBlock
	for _, b := range listBlocks(t, c) {
		snapshot = append(snapshot, b)
	}
	if _, err := first.Allocate(ctx, req("n1", "b")); err != nil {
		t.Fatal(err)
	}
	// A second allocator (a restarted agent) whose cache misses b's write,
	// and one whose cache has no block at all.
	for _, stale := range [][]v1alpha1.IPAMBlock{snapshot, nil} {
		a := New(c, Options{Cache: staleReader{Reader: c, blocks: stale}})
		res, err := a.Allocate(ctx, req("n1", fmt.Sprintf("x%d", len(stale))))
		if err != nil {
			t.Fatal(err)
		}
		// b's retry through the stale allocator keeps b's address.
		again, err := a.Allocate(ctx, req("n1", "b"))
		if err != nil || again.IP.String() != "10.0.0.3" {
			t.Fatalf("idempotent retry through stale cache: %v %v", again.IP, err)
		}
		if res.IP.String() == "10.0.0.2" || res.IP.String() == "10.0.0.3" {
			t.Fatalf("stale cache handed out %s twice", res.IP)
		}
	}
	blocks := listBlocks(t, c)
	if len(blocks) != 1 {
		t.Errorf("%d blocks, want the node to keep using its one block", len(blocks))
	}
	if n := assertUnique(t, blocks); n != 4 {
		t.Errorf("%d allocations, want 4", n)
	}
}

func TestConcurrentAllocations(t *testing.T) {
	ctx := context.Background()
	c := fakeClient(t, subnetObj("net", "10.0.0.0/22"))
	const nodes, perNode = 4, 60
	var wg sync.WaitGroup
	errs := make(chan error, nodes*perNode)
	for n := 0; n < nodes; n++ {
		a := New(c, Options{MaxAttempts: 100})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perNode; i++ {
				if _, err := a.Allocate(ctx, req(fmt.Sprintf("n%d", n), fmt.Sprintf("p%d-%d", n, i))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := assertUnique(t, listBlocks(t, c)); got != nodes*perNode {
		t.Errorf("%d allocations, want %d", got, nodes*perNode)
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		reason    Reason
		temporary bool
		code      uint
	}{
		{ReasonSubnetFull, true, 11},
		{ReasonIPInUse, true, 11},
		{ReasonConflict, true, 11},
		{ReasonSubnetNotFound, true, 11},
		{ReasonIPOutOfRange, false, 7},
		{ReasonIPExcluded, false, 7},
		{ReasonInvalidRequest, false, 7},
	}
	for _, tt := range tests {
		e := fmt.Errorf("wrapped: %w", &Error{Reason: tt.reason, Message: "m"})
		if ReasonOf(e) != tt.reason {
			t.Errorf("ReasonOf lost %s", tt.reason)
		}
		var ie *Error
		if !errors.As(e, &ie) {
			t.Fatal("not an *Error")
		}
		if ie.Temporary() != tt.temporary || ie.CNIError().Code != tt.code {
			t.Errorf("%s: temporary %v code %d", tt.reason, ie.Temporary(), ie.CNIError().Code)
		}
	}
}

// TestRecentWrites: a block this Allocator wrote is preferred to the
// cache's older copy until the cache shows that version, however long the
// cache lags (within recentTTL).
func TestRecentWrites(t *testing.T) {
	block := func(name, rv string) v1alpha1.IPAMBlock {
		b := v1alpha1.IPAMBlock{}
		b.Name, b.ResourceVersion = name, rv
		return b
	}
	for _, tt := range []struct {
		name     string
		after    time.Duration
		cached   string // the cache's version of x
		want     string // the version of x merge returns
		keepsX   bool   // x is still remembered afterwards
		wantsLen int
	}{
		{"cache behind: mine", 0, "5", "7", true, 2},
		{"cache behind for 2 minutes: still mine", 2 * time.Minute, "5", "7", true, 2},
		{"cache caught up: forgotten", 0, "7", "7", false, 2},
		{"cache ahead: the cache's", 0, "9", "9", false, 2},
		{"past the TTL: the cache's", recentTTL + time.Second, "5", "5", false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			r := newRecentWrites(recentTTL, func() time.Time { return now })
			mine, other := block("x", "7"), block("y", "3")
			r.put(&mine)
			r.put(&other)
			now = now.Add(tt.after)
			got := r.merge([]v1alpha1.IPAMBlock{block("x", tt.cached)})
			if len(got) != tt.wantsLen || got[0].Name != "x" || got[0].ResourceVersion != tt.want {
				t.Fatalf("merge = %d blocks, first %s@%s; want %d, x@%s", len(got), got[0].Name, got[0].ResourceVersion, tt.wantsLen, tt.want)
			}
			if _, kept := r.m["x"]; kept != tt.keepsX {
				t.Fatalf("x remembered = %v, want %v", kept, tt.keepsX)
			}
		})
	}
}

// TestBlocksOfAnEarlierSubnetOfTheSameName: a SubNet deleted and re-created
// under the same name with another CIDR may leave blocks behind (claimed
// during the deletion; the GC removes them later). Allocation ignores them
// instead of failing with "block ... is not inside subnet".
func TestBlocksOfAnEarlierSubnetOfTheSameName(t *testing.T) {
	ctx := context.Background()
	stale := &v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: "net.10-9-0-0-26"},
		Spec: v1alpha1.IPAMBlockSpec{Subnet: "net", CIDR: "10.9.0.0/26", Node: "n1",
			Allocations: map[string]v1alpha1.Allocation{"10.9.0.2": {ContainerID: "c-a", Interface: "eth0", Node: "n1"}}}}
	c := fakeClient(t, subnetObj("net", "10.0.0.0/24"), stale)
	a := New(c, Options{})
	for _, r := range []Request{req("n1", "a"), req("n1", "b"), req("n1", "c", static("10.0.0.9"))} {
		res, err := a.Allocate(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", r.Pod, err)
		}
		if !netip.MustParsePrefix("10.0.0.0/24").Contains(res.IP) {
			t.Errorf("%s got %s, outside the SubNet's CIDR", r.Pod, res.IP)
		}
	}
}
