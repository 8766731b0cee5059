// Package podiftest creates throw-away network namespaces for tests that
// plumb real interfaces. They are bind-mounted under /run/netns like the
// ones containerd creates, and deleted in t.Cleanup even when the test
// fails.
//
// Such tests need root. Without it Require skips the test, except under
// CI=true where it fails it.
package podiftest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// NetNSDir is where named namespaces are bind-mounted.
const NetNSDir = "/run/netns"

// Require skips (or under CI=true fails) the test unless it runs as root and
// the given tools are in PATH.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "test needs " + strings.Join(missing, ", ") + " (network namespaces and veths; run as root)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// NetNS is a named network namespace owned by a test.
type NetNS struct {
	// Name is the namespace's name (for `ip netns exec NAME`).
	Name string
	// Path is its bind-mount path, usable as CNI_NETNS.
	Path string
}

// NewNetNS creates a fresh network namespace with a random name carrying
// prefix (short: the name stays under 30 bytes) and registers its deletion.
func NewNetNS(t testing.TB, prefix string) *NetNS {
	t.Helper()
	Require(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
	// `ip netns add`, not a bind mount of our own: iproute2 first makes
	// /run/netns a shared bind mount of itself. A namespace bind-mounted
	// while /run/netns is still a plain directory is covered (unremovable,
	// "device or resource busy") by the first `ip netns add` of any other
	// process afterwards.
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("create netns %s: %v %s", name, err, out)
	}
	ns := &NetNS{Name: name, Path: filepath.Join(NetNSDir, name)}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("delete netns %s: %v %s", name, err, out)
		}
	})
	return ns
}

// Do runs fn on a thread inside the namespace (for sockets that must be
// created there). The thread returns to its namespace afterwards, or is
// discarded if it cannot: Go never ends the main thread, which would stay in
// the namespace (and a sweep of its pids, as ovstest does, kills the test).
func (n *NetNS) Do(fn func() error) error {
	h, err := netns.GetFromPath(n.Path)
	if err != nil {
		return fmt.Errorf("open %s: %w", n.Path, err)
	}
	defer h.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // unlocked only once back home
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(h); err != nil {
			errc <- err
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}
