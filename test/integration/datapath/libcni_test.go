package datapath

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/kubefay/kubefay/pkg/agent/cniinstall"
	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
)

// sandbox is one pod sandbox attached through libcni.
type sandbox struct {
	ns     *podiftest.NetNS
	rt     *libcni.RuntimeConf
	hostIf string
	ofport uint32
}

// TestLibcniAgainstAgent drives the real agent (CNIHandler behind the CNI
// server, real OVS, real flows) the way a CNI 1.1 runtime does: through
// libcni, with the conflist the agent installs (kubefay-cni chained with
// portmap and bandwidth, all built from this module) and the plugins
// executed in the node's network namespace. STATUS is not ready until the
// agent's first sync; CHECK sees a broken interface; GC removes the port,
// veth, flows and address of every sandbox that is not in the valid list,
// including one the runtime's cache no longer knows.
func TestLibcniAgainstAgent(t *testing.T) {
	ctx := testCtx(t)
	n := startNode(t, ctx, netip.MustParseAddr("10.192.0.40"))
	var synced atomic.Bool // the agent's health: set by its first complete sync
	n.handler.Ready, n.handler.Initialized = synced.Load, synced.Load
	socket := serveCNI(t, n.handler)

	hostBin, confDir := t.TempDir(), t.TempDir()
	if err := cniinstall.Install(cniBinaries(t), hostBin, confDir, socket); err != nil {
		t.Fatal(err)
	}
	list, err := libcni.ConfListFromFile(filepath.Join(confDir, cniinstall.ConfListName))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, p := range list.Plugins {
		kinds = append(kinds, p.Network.Type)
	}
	if list.CNIVersion != "1.1.0" || strings.Join(kinds, ",") != "kubefay-cni,portmap,bandwidth" {
		t.Fatalf("installed conflist: version %s, plugins %v; want 1.1.0 for this libcni, kubefay-cni,portmap,bandwidth", list.CNIVersion, kinds)
	}
	cni := libcni.NewCNIConfigWithCacheDir([]string{hostBin}, t.TempDir(), nil)
	nodeNS := &podiftest.NetNS{Name: n.ovs.NetNS, Path: filepath.Join(podiftest.NetNSDir, n.ovs.NetNS)}
	inNode := func(fn func() error) error { return nodeNS.Do(fn) }

	t.Run("STATUS before and after the first sync", func(t *testing.T) {
		err := inNode(func() error { return cni.GetStatusNetworkList(ctx, list) })
		var ce *types.Error
		if !errors.As(err, &ce) || ce.Code != types.ErrPluginNotAvailable {
			t.Fatalf("STATUS before the first sync: %v, want CNI error %d", err, types.ErrPluginNotAvailable)
		}
		synced.Store(true)
		if err := inNode(func() error { return cni.GetStatusNetworkList(ctx, list) }); err != nil {
			t.Fatalf("STATUS after the first sync: %v", err)
		}
	})
	if !synced.Load() {
		t.FailNow()
	}

	attach := func(c libcni.CNI, name string) *sandbox {
		t.Helper()
		ns := podiftest.NewNetNS(t, "kfdp")
		id := randID()
		s := &sandbox{ns: ns, hostIf: podif.HostIfName(id, "eth0"), rt: &libcni.RuntimeConf{ContainerID: id, NetNS: ns.Path, IfName: "eth0",
			Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "default"}, {"K8S_POD_NAME", name},
				{"K8S_POD_INFRA_CONTAINER_ID", id}, {"K8S_POD_UID", "uid-" + name}}}}
		t.Cleanup(func() { // before the namespace goes; idempotent
			_ = inNode(func() error { return cni.DelNetworkList(context.Background(), list, s.rt) })
		})
		if err := inNode(func() error { _, err := c.AddNetworkList(ctx, list, s.rt); return err }); err != nil {
			t.Fatalf("ADD %s: %v", name, err)
		}
		s.ofport = n.ofport(t, s.hostIf)
		return s
	}
	kept := attach(cni, "kept")
	gone := attach(cni, "gone")
	// leaked was attached through a cache that is lost since (a node
	// reboot wiping /var/lib/cni): only the agent's GC can find it.
	lostCache := t.TempDir()
	leaked := attach(libcni.NewCNIConfigWithCacheDir([]string{hostBin}, lostCache, nil), "leaked")
	if err := os.RemoveAll(lostCache); err != nil {
		t.Fatal(err)
	}

	t.Run("CHECK", func(t *testing.T) {
		if err := inNode(func() error { return cni.CheckNetworkList(ctx, list, kept.rt) }); err != nil {
			t.Fatalf("CHECK of a healthy sandbox: %v", err)
		}
		setMTU(t, kept.ns, podMTU-100)
		err := inNode(func() error { return cni.CheckNetworkList(ctx, list, kept.rt) })
		setMTU(t, kept.ns, podMTU)
		if err == nil || !strings.Contains(err.Error(), "MTU pod 1350") {
			t.Fatalf("CHECK with the pod's eth0 MTU changed: %v, want an error naming it", err)
		}
	})

	t.Run("GC", func(t *testing.T) {
		valid := []types.GCAttachment{{ContainerID: kept.rt.ContainerID, IfName: "eth0"}}
		if err := inNode(func() error { return cni.GCNetworkList(ctx, list, &libcni.GCArgs{ValidAttachments: valid}) }); err != nil {
			t.Fatalf("GC: %v", err)
		}
		if err := n.handler.Settle(ctx); err != nil { // veths and addresses go after the answer
			t.Fatal(err)
		}
		ports := strings.Fields(n.ovs.Vsctl(t, "list-ports", bridge))
		alloc := n.handler.IPAM.(*memAllocator)
		for _, c := range []struct {
			name string
			s    *sandbox
			keep bool
		}{{"kept", kept, true}, {"gone", gone, false}, {"leaked", leaked, false}} {
			if got := slices.Contains(ports, c.s.hostIf); got != c.keep {
				t.Errorf("%s: OVS port %s present %v, want %v", c.name, c.s.hostIf, got, c.keep)
			}
			if got := n.linkExists(c.s.hostIf); got != c.keep {
				t.Errorf("%s: veth %s present %v, want %v", c.name, c.s.hostIf, got, c.keep)
			}
			if got := len(n.podFlows(t, c.s.ofport)) > 0; got != c.keep {
				t.Errorf("%s: flows of ofport %d present %v, want %v", c.name, c.s.ofport, got, c.keep)
			}
			if got := alloc.holds(c.s.rt.ContainerID, "eth0"); got != c.keep {
				t.Errorf("%s: address allocated %v, want %v", c.name, got, c.keep)
			}
		}
		if err := inNode(func() error { return cni.CheckNetworkList(ctx, list, kept.rt) }); err != nil {
			t.Errorf("CHECK of the valid sandbox after GC: %v", err)
		}
	})

	if err := inNode(func() error { return cni.DelNetworkList(ctx, list, kept.rt) }); err != nil {
		t.Fatalf("DEL: %v", err)
	}
	if err := n.handler.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if n.linkExists(kept.hostIf) || n.handler.IPAM.(*memAllocator).holds(kept.rt.ContainerID, "eth0") {
		t.Error("DEL left the veth or the address")
	}
}

// setMTU sets the MTU of eth0 in the pod namespace.
func setMTU(t *testing.T, ns *podiftest.NetNS, mtu int) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", ns.Name, "link", "set", "eth0", "mtu", fmt.Sprint(mtu)).CombinedOutput(); err != nil {
		t.Fatalf("ip link set eth0 mtu %d: %v %s", mtu, err, out)
	}
}

// holds reports whether the allocator has an address for the attachment.
func (a *memAllocator) holds(containerID, iface string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.byKey[containerID+"/"+iface]
	return ok
}
