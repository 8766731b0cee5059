package trace

import (
	"os"
	"path/filepath"
	"testing"
)

func TestVswitchdTarget(t *testing.T) {
	dir := t.TempDir()
	if _, err := VswitchdTarget(dir); err == nil {
		t.Fatal("no socket, no error")
	}
	touch := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	touch("ovs-vswitchd.ctl", "")
	touch("ovs-vswitchd.pid", "42\n")
	if got, err := VswitchdTarget(dir); err != nil || got != filepath.Join(dir, "ovs-vswitchd.ctl") {
		t.Fatalf("--unixctl socket: %q %v", got, err)
	}
	touch("ovs-vswitchd.42.ctl", "")
	if got, err := VswitchdTarget(dir); err != nil || got != filepath.Join(dir, "ovs-vswitchd.42.ctl") {
		t.Fatalf("default socket of pid 42: %q %v", got, err)
	}
}
