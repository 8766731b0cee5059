package controlplane

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// What the agent admission policy (build/helm/kubefay/templates/ipamblock-admission.yaml) says.
const (
	refusedNoNode  = "must use a pod-bound service account token"
	refusedBlock   = "may only create or delete IPAM blocks of its own node"
	refusedMove    = "may not move IPAM block"
	refusedAlloc   = "may only add, change or remove allocations of its own node"
	refusedNoVerb  = "cannot delete resource" // RBAC: the agent never deletes blocks
	agentNamespace = "kube-system"
)

// TestAgentWritesOnlyItsNode: with the install's RBAC and admission policies,
// a kubefay-agent token bound to a pod on node1 (it carries the node's name)
// writes node1's blocks and node1's allocations, in any block (a static IP
// may lie in another node's block), and nothing of node2; an agent token
// without the node claim writes nothing; the controller is not limited.
func TestAgentWritesOnlyItsNode(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.installManifests(t, "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
	node1 := e.clientWithToken(t, e.agentToken(t, "node1"))
	unbound := e.clientWithToken(t, e.saToken(t, "kubefay-agent", nil))
	ctrl := e.clientWithToken(t, e.saToken(t, "kubefay-controller", nil))
	e.waitAgentPolicy(t, node1)

	tests := []struct {
		name    string
		as      client.Client
		do      blockOp
		wantErr string // "" = allowed
	}{
		{"node1 creates its block", node1, createBlock("node1"), ""},
		{"node1 allocates in its block", node1, updateBlock(ownBlock, setAlloc("10.0.0.3", alloc("node1", "c"))), ""},
		{"node1 releases its address", node1, updateBlock(ownBlock, freeAlloc("10.0.0.1")), ""},
		{"node1 takes a free address in node2's block", node1, updateBlock(otherBlock, setAlloc("10.0.1.9", alloc("node1", "d"))), ""},
		{"node1 creates node2's block", node1, createBlock("node2"), refusedBlock},
		{"node1 takes the address of node2's pod", node1, updateBlock(otherBlock, setAlloc("10.0.1.1", alloc("node1", "e"))), refusedAlloc},
		{"node1 frees node2's pod's address in its block", node1, updateBlock(ownBlock, freeAlloc("10.0.0.2")), refusedAlloc},
		{"node1 records an address for node2", node1, updateBlock(ownBlock, setAlloc("10.0.0.5", alloc("node2", "f"))), refusedAlloc},
		{"node1 moves node2's block to itself", node1, updateBlock(otherBlock, func(b *v1alpha1.IPAMBlock) { b.Spec.Node = "node1" }), refusedMove},
		{"node1 deletes node2's block", node1, deleteBlock(otherBlock), refusedNoVerb},
		{"agent token without a node", unbound, updateBlock(ownBlock, setAlloc("10.0.0.4", alloc("node1", "g"))), refusedNoNode},
		{"controller frees node2's pod's address", ctrl, updateBlock(otherBlock, freeAlloc("10.0.1.1")), ""},
		{"controller deletes node2's block", ctrl, deleteBlock(otherBlock), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ownName, otherName := e.blockPair(t, i)
			err := tt.do(ctx, tt.as, ownName, otherName)
			expectRefusal(t, err, tt.wantErr)
		})
	}
	t.Run("the agent's allocator", func(t *testing.T) { agentAllocator(t, e, node1) })
}

// agentAllocator: kubefay's IPAM, writing with node1's agent token, claims
// a block, allocates, puts a static IP in node2's block and releases; it
// cannot take over an address of node2's pod even when that pod is gone
// (the controller's garbage collector frees it).
func agentAllocator(t *testing.T, e *env, node1 client.Client) {
	ctx := context.Background()
	e.create(t, &v1alpha1.SubNet{ObjectMeta: metav1.ObjectMeta{Name: "agentnet"}, Spec: v1alpha1.SubNetSpec{CIDR: "10.50.0.0/16"}})
	a1 := ipam.New(node1, ipam.Options{DefaultSubnet: "agentnet"})
	a2 := ipam.New(e.clientWithToken(t, e.agentToken(t, "node2")), ipam.Options{DefaultSubnet: "agentnet"})
	req := func(node, pod string, static netip.Addr) ipam.Request {
		return ipam.Request{Node: node, Namespace: "default", Pod: pod, ContainerID: "ctr-" + pod, StaticIP: static}
	}
	held, err := a2.Allocate(ctx, req("node2", "gone", netip.Addr{}))
	if err != nil {
		t.Fatalf("node2 allocates: %v", err)
	}
	if _, err := a1.Allocate(ctx, req("node1", "p1", netip.Addr{})); err != nil {
		t.Fatalf("node1 allocates: %v", err)
	}
	static := held.IP.Next().Next()
	if got, err := a1.Allocate(ctx, req("node1", "s1", static)); err != nil || got.Block != held.Block {
		t.Fatalf("node1 takes static %s in node2's block %s: %+v, %v", static, held.Block, got, err)
	}
	for _, pod := range []string{"p1", "s1"} {
		if err := a1.Release(ctx, "ctr-"+pod, ""); err != nil {
			t.Fatalf("node1 releases %s: %v", pod, err)
		}
	}
	_, err = a1.Allocate(ctx, req("node1", "s2", held.IP))
	if err == nil || !strings.Contains(err.Error(), refusedAlloc) {
		t.Fatalf("node1 takes over %s of node2's gone pod: %v, want %q", held.IP, err, refusedAlloc)
	}
}

// blockPair creates, as admin, case i's two blocks: node1's (holding
// node1's 10.0.0.1 and node2's static 10.0.0.2) and node2's (10.0.1.1).
func (e *env) blockPair(t *testing.T, i int) (own, other string) {
	t.Helper()
	own, other = "t"+string(rune('a'+i))+"-own", "t"+string(rune('a'+i))+"-other"
	e.create(t,
		block(own, "node1", "10.0.0.0/26", map[string]v1alpha1.Allocation{"10.0.0.1": alloc("node1", "a"), "10.0.0.2": alloc("node2", "s")}),
		block(other, "node2", "10.0.1.0/26", map[string]v1alpha1.Allocation{"10.0.1.1": alloc("node2", "b")}))
	return own, other
}

func block(name, node, cidr string, allocs map[string]v1alpha1.Allocation) *v1alpha1.IPAMBlock {
	return &v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.IPAMBlockSpec{Subnet: "sn", CIDR: cidr, Node: node, Allocations: allocs}}
}

func alloc(node, pod string) v1alpha1.Allocation {
	return v1alpha1.Allocation{Namespace: "default", Pod: pod, ContainerID: "ctr-" + pod, Interface: "eth0", Node: node}
}

// blockOp is an operation of the table on the case's blocks (see blockPair).
type blockOp func(ctx context.Context, c client.Client, own, other string) error

// Which of the case's blocks an operation writes.
func ownBlock(own, _ string) string     { return own }
func otherBlock(_, other string) string { return other }

func createBlock(node string) blockOp {
	return func(ctx context.Context, c client.Client, own, _ string) error {
		return c.Create(ctx, block(own+"-new", node, "10.0.2.0/26", map[string]v1alpha1.Allocation{"10.0.2.1": alloc(node, "n")}))
	}
}

func updateBlock(which func(string, string) string, edit func(*v1alpha1.IPAMBlock)) blockOp {
	return func(ctx context.Context, c client.Client, own, other string) error {
		b := &v1alpha1.IPAMBlock{}
		if err := c.Get(ctx, client.ObjectKey{Name: which(own, other)}, b); err != nil {
			return err
		}
		edit(b)
		return c.Update(ctx, b)
	}
}

func deleteBlock(which func(string, string) string) blockOp {
	return func(ctx context.Context, c client.Client, own, other string) error {
		return c.Delete(ctx, &v1alpha1.IPAMBlock{ObjectMeta: metav1.ObjectMeta{Name: which(own, other)}})
	}
}

func setAlloc(ip string, al v1alpha1.Allocation) func(*v1alpha1.IPAMBlock) {
	return func(b *v1alpha1.IPAMBlock) { b.Spec.Allocations[ip] = al }
}

func freeAlloc(ip string) func(*v1alpha1.IPAMBlock) {
	return func(b *v1alpha1.IPAMBlock) { delete(b.Spec.Allocations, ip) }
}

// waitAgentPolicy waits until the apiserver refuses node1 a block of node2
// (it picks policies up asynchronously). It reports an error, not a fatal
// one, when that never happens, so that the table shows what got through.
func (e *env) waitAgentPolicy(t *testing.T, node1 client.Client) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := block("probe", "node2", "10.0.3.0/26", nil)
		err := node1.Create(ctx, probe)
		if err != nil && strings.Contains(err.Error(), refusedBlock) {
			return
		}
		if err == nil {
			_ = e.c.Delete(ctx, probe)
		}
		if time.Now().After(deadline) {
			t.Errorf("agent admission policy not in effect after 30s (last answer: %v)", err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
