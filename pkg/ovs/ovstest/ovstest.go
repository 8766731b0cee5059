// Package ovstest starts real, throw-away Open vSwitch instances for tests:
// an ovsdb-server and an ovs-vswitchd inside a fresh network namespace, with
// their own run, db and log directories. Everything is stopped and removed in
// t.Cleanup, also when the test fails.
//
// Bridges use the userspace "netdev" datapath unless KUBEFAY_DATAPATH=system
// asks for the kernel one (openvswitch.ko; hack/uml runs tests in a guest
// that has it). Kernel datapaths are per network namespace, so instances
// stay independent either way.
//
// Tests that use it need root and the openvswitch-switch package. Without
// them Start skips the test, except under CI=true where it fails it: CI must
// never silently skip a test that proves something against real OVS.
package ovstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Instance is one running OVS: ovsdb-server and ovs-vswitchd in NetNS.
type Instance struct {
	// Dir is the instance's private directory (run, db and log files).
	Dir string
	// RunDir holds the sockets: db.sock and <bridge>.mgmt.
	RunDir string
	// DBSock is the path of ovsdb-server's unix socket.
	DBSock string
	// NetNS is the name of the network namespace the daemons run in.
	NetNS string
}

// Datapath types (KUBEFAY_DATAPATH).
const (
	Netdev = "netdev"
	System = "system"
)

// DatapathType is the datapath_type tests give their bridges: $KUBEFAY_DATAPATH,
// netdev when unset.
func DatapathType() string {
	if v := os.Getenv("KUBEFAY_DATAPATH"); v != "" {
		return v
	}
	return Netdev
}

// Require skips (or, under CI=true, fails) the test unless it runs as root
// and the OVS tools are installed.
func Require(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range []string{"ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	switch dp := DatapathType(); dp {
	case Netdev:
	case System:
		if _, err := os.Stat("/sys/module/openvswitch"); err != nil {
			missing = append(missing, "the openvswitch kernel module (KUBEFAY_DATAPATH=system; see hack/uml)")
		}
	default:
		t.Fatalf("KUBEFAY_DATAPATH=%q: want %q or %q", dp, Netdev, System)
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("real OVS test needs %s (apt-get install openvswitch-switch iproute2, run as root)", strings.Join(missing, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start launches a fresh OVS instance for the test and registers its teardown.
func Start(t testing.TB) *Instance {
	t.Helper()
	Require(t)
	id := randHex(4)
	// Keep paths short: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("/tmp", "kfovs-"+id+"-")
	if err != nil {
		t.Fatal(err)
	}
	inst := &Instance{Dir: dir, RunDir: filepath.Join(dir, "run"), NetNS: "kfovs-" + id}
	inst.DBSock = filepath.Join(inst.RunDir, "db.sock")
	t.Cleanup(func() { inst.stop(t) })
	for _, d := range []string{"run", "db", "log", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "ip", "netns", "add", inst.NetNS)
	mustRun(t, "ip", "-n", inst.NetNS, "link", "set", "lo", "up")
	mustRun(t, "ovsdb-tool", "create", filepath.Join(dir, "db", "conf.db"), schemaPath())
	inst.startOVSDB(t)
	mustRun(t, "ovs-vsctl", "--db=unix:"+inst.DBSock, "--no-wait", "init")
	inst.startVswitchd(t)
	return inst
}

// MgmtSock returns the path of the OpenFlow management socket of bridge.
func (i *Instance) MgmtSock(bridge string) string {
	return filepath.Join(i.RunDir, bridge+".mgmt")
}

// Vsctl runs ovs-vsctl against this instance and returns its trimmed stdout.
func (i *Instance) Vsctl(t testing.TB, args ...string) string {
	t.Helper()
	return mustRun(t, "ovs-vsctl", append([]string{"--db=unix:" + i.DBSock, "--timeout=20"}, args...)...)
}

// Ofctl runs ovs-ofctl with OpenFlow 1.5; use MgmtSock for the target.
func (i *Instance) Ofctl(t testing.TB, args ...string) string {
	t.Helper()
	return mustRun(t, "ovs-ofctl", append([]string{"-O", "OpenFlow15"}, args...)...)
}

// Appctl runs ovs-appctl against this instance's ovs-vswitchd.
func (i *Instance) Appctl(t testing.TB, args ...string) string {
	t.Helper()
	return mustRun(t, "ovs-appctl", append([]string{"-t", i.ctl("ovs-vswitchd")}, args...)...)
}

// AddBridge creates bridge name with DatapathType(), fail_mode=secure and
// OpenFlow 1.0–1.5 enabled, and waits until its management socket exists.
func (i *Instance) AddBridge(t testing.TB, name string) {
	t.Helper()
	i.Vsctl(t, "--may-exist", "add-br", name, "--", "set", "bridge", name,
		"datapath_type="+DatapathType(), "fail_mode=secure", "protocols=OpenFlow10,OpenFlow13,OpenFlow15")
	waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(i.MgmtSock(name)); return err == nil },
		"management socket of "+name)
}

// Exec runs a command inside the instance's network namespace.
func (i *Instance) Exec(t testing.TB, name string, args ...string) string {
	t.Helper()
	return mustRun(t, "ip", append([]string{"netns", "exec", i.NetNS, name}, args...)...)
}

// RestartVswitchd kills ovs-vswitchd and starts it again with the same
// configuration, as a crash or an upgrade would; all OpenFlow flows are lost.
func (i *Instance) RestartVswitchd(t testing.TB) {
	t.Helper()
	i.kill(t, "ovs-vswitchd")
	i.startVswitchd(t)
}

// RestartOVSDB kills ovsdb-server and starts it again on the same database.
func (i *Instance) RestartOVSDB(t testing.TB) {
	t.Helper()
	i.kill(t, "ovsdb-server")
	i.startOVSDB(t)
}

func (i *Instance) env() []string {
	return append(os.Environ(), "OVS_RUNDIR="+i.RunDir, "OVS_DBDIR="+filepath.Join(i.Dir, "db"),
		"OVS_LOGDIR="+filepath.Join(i.Dir, "log"), "OVS_SYSCONFDIR="+filepath.Join(i.Dir, "etc"))
}

func (i *Instance) ctl(daemon string) string  { return filepath.Join(i.RunDir, daemon+".ctl") }
func (i *Instance) pidf(daemon string) string { return filepath.Join(i.RunDir, daemon+".pid") }
func (i *Instance) logf(daemon string) string { return filepath.Join(i.Dir, "log", daemon+".log") }
func (i *Instance) daemon(t testing.TB, name string, args ...string) {
	t.Helper()
	// -vconsole:off must come before --log-file or the daemon writes to the terminal.
	full := append([]string{"netns", "exec", i.NetNS, name}, args...)
	full = append(full, "--pidfile="+i.pidf(name), "--unixctl="+i.ctl(name),
		"-vconsole:off", "--log-file="+i.logf(name), "--detach", "--no-chdir")
	cmd := exec.Command("ip", full...)
	cmd.Env = i.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start %s: %v: %s\n%s", name, err, out, tail(i.logf(name)))
	}
}

func (i *Instance) startOVSDB(t testing.TB) {
	t.Helper()
	i.daemon(t, "ovsdb-server", filepath.Join(i.Dir, "db", "conf.db"), "--remote=punix:"+i.DBSock)
	waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(i.DBSock); return err == nil }, "ovsdb-server socket")
}

func (i *Instance) startVswitchd(t testing.TB) {
	t.Helper()
	i.daemon(t, "ovs-vswitchd", "unix:"+i.DBSock)
	// ovs-vsctl without --no-wait returns once ovs-vswitchd has applied the database.
	i.Vsctl(t, "set", "Open_vSwitch", ".", "external_ids:ovstest="+randHex(2))
}

// kill stops a daemon by its pid file: TERM, then KILL after 5 s.
func (i *Instance) kill(t testing.TB, daemon string) {
	b, err := os.ReadFile(i.pidf(daemon))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Logf("%s (pid %d) ignored SIGTERM; killing", daemon, pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		time.Sleep(50 * time.Millisecond)
	}
	_ = os.Remove(i.pidf(daemon))
}

func (i *Instance) stop(t testing.TB) {
	i.kill(t, "ovs-vswitchd")
	i.kill(t, "ovsdb-server")
	if t.Failed() {
		for _, d := range []string{"ovs-vswitchd", "ovsdb-server"} {
			t.Logf("%s log tail:\n%s", d, tail(i.logf(d)))
		}
	}
	// Anything else still in the namespace was started by the test: stop it.
	if out, err := exec.Command("ip", "netns", "pids", i.NetNS).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	_ = exec.Command("ip", "netns", "del", i.NetNS).Run()
	_ = os.RemoveAll(i.Dir)
}

func schemaPath() string {
	for _, p := range []string{"/usr/share/openvswitch/vswitch.ovsschema", "/usr/local/share/openvswitch/vswitch.ovsschema"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/usr/share/openvswitch/vswitch.ovsschema"
}

func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func waitFor(t testing.TB, timeout time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
