package cni_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/kubefay/kubefay/pkg/agent/podif"
	"github.com/kubefay/kubefay/pkg/agent/podif/podiftest"
	"github.com/kubefay/kubefay/pkg/cni/api"
)

// pluginConf is one conflist entry as libcni hands it to the plugin
// (name and cniVersion injected, runtimeConfig added).
func pluginConf(version, socket string) string {
	return `{"cniVersion":"` + version + `","name":"kubefay","type":"kubefay-cni","agentSocket":"` + socket + `",` +
		`"runtimeConfig":{"io.kubernetes.cri.pod-annotations":{}}}`
}

// TestContainerdCallPattern replays what containerd 1.6 does for one pod:
// ADD, then DEL with the netns, then two DELs with an empty CNI_NETNS.
func TestContainerdCallPattern(t *testing.T) {
	e := newEnv(t, "10.200.20.")
	pod := podiftest.NewNetNS(t, "kfp")
	id := randomID()
	args := k8sArgs("default", "web-0", id)
	conf := pluginConf("1.0.0", e.socket)

	out, code := e.run(invocation{command: "ADD", containerID: id, netns: pod.Path, ifName: "eth0", args: args, stdin: conf})
	if code != 0 {
		t.Fatalf("ADD exit %d: %s", code, out)
	}
	var res current.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ADD stdout: %v\n%s", err, out)
	}
	if res.CNIVersion != "1.0.0" || len(res.IPs) != 1 || len(res.Interfaces) != 2 || res.Interfaces[1].Sandbox != pod.Path {
		t.Fatalf("ADD result %s", out)
	}
	l, addrs := podLink(t, pod, "eth0")
	if l == nil {
		t.Fatal("no eth0 in the pod netns after ADD")
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != res.IPs[0].Address.String() {
		t.Errorf("pod addresses %v, result %s", addrs, res.IPs[0].Address.String())
	}
	if l.Attrs().MTU != 1450 || l.Attrs().HardwareAddr.String() != res.Interfaces[1].Mac {
		t.Errorf("eth0 MTU %d MAC %s, result MAC %s", l.Attrs().MTU, l.Attrs().HardwareAddr, res.Interfaces[1].Mac)
	}
	hostIf := podif.HostIfName(id, "eth0")
	if res.Interfaces[0].Name != hostIf || !e.hostLinkExists(hostIf) {
		t.Errorf("host end %s missing (result %s)", hostIf, res.Interfaces[0].Name)
	}

	// A repeated ADD (runtime retry) is answered from the same pair.
	if out, code := e.run(invocation{command: "ADD", containerID: id, netns: pod.Path, ifName: "eth0", args: args, stdin: conf}); code != 0 {
		t.Fatalf("repeated ADD exit %d: %s", code, out)
	}

	for i, netnsPath := range []string{pod.Path, "", ""} {
		out, code := e.run(invocation{command: "DEL", containerID: id, netns: netnsPath, ifName: "eth0", args: args, stdin: conf})
		if code != 0 || len(out) != 0 {
			t.Fatalf("DEL #%d (netns %q): exit %d stdout %s", i+1, netnsPath, code, out)
		}
	}
	if l, _ := podLink(t, pod, "eth0"); l != nil {
		t.Error("eth0 still in the pod netns after DEL")
	}
	if e.hostLinkExists(hostIf) {
		t.Error("host end still present after DEL")
	}

	reqs := e.agent.recorded()
	var cmds []string
	for _, r := range reqs {
		cmds = append(cmds, string(r.Command)+":"+r.Netns)
	}
	want := []string{"ADD:" + pod.Path, "ADD:" + pod.Path, "DEL:" + pod.Path, "DEL:", "DEL:"}
	if strings.Join(cmds, ",") != strings.Join(want, ",") {
		t.Errorf("agent saw %v, want %v", cmds, want)
	}
	first := reqs[0]
	if first.Pod != (api.PodArgs{Namespace: "default", Name: "web-0", UID: "uid-" + id[:8], InfraContainerID: id}) ||
		first.ContainerID != id || first.IfName != "eth0" || first.CNIVersion != "1.0.0" || string(first.NetConf) != conf {
		t.Errorf("forwarded request %+v", first)
	}
}

// TestLibcniConflist drives the binary through libcni with a conflist, as
// the CRI plugins do: ADD (results in the conflist's version), CHECK,
// STATUS, GC and DEL.
func TestLibcniConflist(t *testing.T) {
	e := newEnv(t, "10.200.21.")
	cacheDir := t.TempDir()
	cni := libcni.NewCNIConfigWithCacheDir([]string{e.bin}, cacheDir, nil)
	ctx := context.Background()

	for _, version := range []string{"1.1.0", "0.4.0", "0.3.1"} {
		t.Run(version, func(t *testing.T) {
			list, err := libcni.ConfListFromBytes([]byte(`{"cniVersion":"` + version + `","name":"kubefay","plugins":[` +
				`{"type":"kubefay-cni","agentSocket":"` + e.socket + `","timeouts":{"add":"20s"}}]}`))
			if err != nil {
				t.Fatal(err)
			}
			pods := []*podiftest.NetNS{podiftest.NewNetNS(t, "kfp"), podiftest.NewNetNS(t, "kfp")}
			rts := make([]*libcni.RuntimeConf, len(pods))
			for i, pod := range pods {
				id := randomID()
				rts[i] = &libcni.RuntimeConf{ContainerID: id, NetNS: pod.Path, IfName: "eth0",
					Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "default"}, {"K8S_POD_NAME", "p" + id[:6]},
						{"K8S_POD_INFRA_CONTAINER_ID", id}, {"K8S_POD_UID", "uid"}}}
				res, err := cni.AddNetworkList(ctx, list, rts[i])
				if err != nil {
					t.Fatalf("AddNetworkList: %v", err)
				}
				if res.Version() != version {
					t.Errorf("result version %s, want %s", res.Version(), version)
				}
				cur, err := current.NewResultFromResult(res)
				if err != nil || len(cur.IPs) != 1 {
					t.Fatalf("result %v: %v", res, err)
				}
				if l, addrs := podLink(t, pod, "eth0"); l == nil || len(addrs) != 1 || addrs[0].IP.String() != cur.IPs[0].Address.IP.String() {
					t.Errorf("pod %d: eth0 %v addresses %v, result %s", i, l, addrs, cur.IPs[0].Address.String())
				}
			}
			if version != "0.3.1" {
				if err := cni.CheckNetworkList(ctx, list, rts[0]); err != nil {
					t.Errorf("CheckNetworkList: %v", err)
				}
			}
			if version == "1.1.0" {
				if err := cni.GetStatusNetworkList(ctx, list); err != nil {
					t.Errorf("GetStatusNetworkList: %v", err)
				}
				// Only pod 1 is still valid: pod 0 goes (libcni DELs it, the
				// plugin's GC then confirms).
				valid := []types.GCAttachment{{ContainerID: rts[1].ContainerID, IfName: "eth0"}}
				if err := cni.GCNetworkList(ctx, list, &libcni.GCArgs{ValidAttachments: valid}); err != nil {
					t.Errorf("GCNetworkList: %v", err)
				}
				if l, _ := podLink(t, pods[0], "eth0"); l != nil {
					t.Error("GC left the invalid attachment")
				}
				if l, _ := podLink(t, pods[1], "eth0"); l == nil {
					t.Error("GC removed a valid attachment")
				}
			}
			for _, rt := range rts {
				if err := cni.DelNetworkList(ctx, list, rt); err != nil {
					t.Errorf("DelNetworkList: %v", err)
				}
			}
			for i, pod := range pods {
				if l, _ := podLink(t, pod, "eth0"); l != nil {
					t.Errorf("pod %d keeps eth0 after DEL", i)
				}
			}
		})
	}
	seen := map[api.Command]int{}
	for _, r := range e.agent.recorded() {
		seen[r.Command]++
	}
	if seen[api.CommandAdd] != 6 || seen[api.CommandCheck] != 2 || seen[api.CommandStatus] != 1 || seen[api.CommandGC] != 1 {
		t.Errorf("agent saw %v", seen)
	}
}

// TestErrorPaths checks what the runtime sees when things go wrong: exit
// code 1 and CNI error JSON on stdout.
func TestErrorPaths(t *testing.T) {
	e := newEnv(t, "10.200.22.")
	pod := podiftest.NewNetNS(t, "kfp")
	missing := filepath.Join(filepath.Dir(e.socket), "gone", "cni.sock")
	id := randomID()
	tests := []struct {
		name      string
		inv       invocation
		wantCode  uint
		wantInMsg string
	}{
		{name: "agent down on ADD", wantCode: 11, wantInMsg: missing,
			inv: invocation{command: "ADD", netns: pod.Path, stdin: pluginConf("1.1.0", missing)}},
		{name: "agent down on DEL", wantCode: 11, wantInMsg: missing,
			inv: invocation{command: "DEL", netns: "", stdin: pluginConf("1.1.0", missing)}},
		{name: "agent down on STATUS", wantCode: 50, wantInMsg: missing,
			inv: invocation{command: "STATUS", stdin: pluginConf("1.1.0", missing)}},
		{name: "agent refuses", wantCode: 7, wantInMsg: "pod refused by policy",
			inv: invocation{command: "ADD", netns: pod.Path, args: k8sArgs("default", "reject-me", id), stdin: pluginConf("1.1.0", e.socket)}},
		{name: "agent too slow", wantCode: 11, wantInMsg: "did not answer CNI ADD within 300ms",
			inv: invocation{command: "ADD", netns: pod.Path, args: k8sArgs("default", "slow-pod", id),
				stdin: `{"cniVersion":"1.1.0","name":"kubefay","type":"kubefay-cni","agentSocket":"` + e.socket + `","timeouts":{"add":"300ms"}}`}},
		{name: "stdin not JSON", wantCode: 6,
			inv: invocation{command: "ADD", netns: pod.Path, stdin: `{"cniVersion":"1.1.0","name":`}},
		{name: "invalid timeouts", wantCode: 7, wantInMsg: "invalid kubefay network configuration",
			inv: invocation{command: "ADD", netns: pod.Path, stdin: `{"cniVersion":"1.1.0","name":"kubefay","timeouts":{"add":"soon"}}`}},
		{name: "unsupported version", wantCode: 1,
			inv: invocation{command: "ADD", netns: pod.Path, stdin: pluginConf("0.2.0", e.socket)}},
		{name: "no netns on ADD", wantCode: 4,
			inv: invocation{command: "ADD", stdin: pluginConf("1.1.0", e.socket)}},
		{name: "netns does not exist", wantCode: 8, wantInMsg: "open pod netns",
			inv: invocation{command: "ADD", netns: "/run/netns/kf-none", stdin: pluginConf("1.1.0", e.socket)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := tt.inv
			inv.containerID, inv.ifName = id, "eth0"
			out, code := e.run(inv)
			if code != 1 {
				t.Fatalf("exit code %d, want 1 (stdout %s)", code, out)
			}
			ce := cniError(t, out)
			if ce.Code != tt.wantCode || !strings.Contains(ce.Msg, tt.wantInMsg) {
				t.Errorf("got %+v, want code %d msg ~%q", ce, tt.wantCode, tt.wantInMsg)
			}
		})
	}
	if l, _ := podLink(t, pod, "eth0"); l != nil {
		t.Error("a failed ADD left eth0 in the pod")
	}

	t.Run("VERSION without agent", func(t *testing.T) {
		out, code := e.run(invocation{command: "VERSION", stdin: `{"cniVersion":"1.1.0"}`})
		if code != 0 || !strings.Contains(string(out), `"supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]`) {
			t.Errorf("VERSION exit %d: %s", code, out)
		}
	})
	t.Run("DEL of an unknown container", func(t *testing.T) {
		out, code := e.run(invocation{command: "DEL", containerID: randomID(), ifName: "eth0", stdin: pluginConf("1.1.0", e.socket)})
		if code != 0 || len(out) != 0 {
			t.Errorf("exit %d stdout %s", code, out)
		}
	})
}
