package podiftest

import (
	"os"
	"os/exec"
	"testing"
)

const childEnv = "KUBEFAY_NETNS_SCENARIO"

// TestNetNSSurvivesAnotherCreator reproduces a CI flake: a test's namespace
// was bind-mounted while /run/netns was a plain directory; another process's
// first `ip netns add` then bind-mounted /run/netns onto itself, covering the
// test's mount, which could no longer be removed ("device or resource
// busy"). The scenario runs in a private mount namespace whose /run is a
// fresh tmpfs (as on a fresh machine); its namespaces vanish with it.
func TestNetNSSurvivesAnotherCreator(t *testing.T) {
	Require(t, "ip", "unshare", "mount")
	if os.Getenv(childEnv) == "1" {
		ns := NewNetNS(t, "kft")
		other := ns.Name + "-other"
		if out, err := exec.Command("ip", "netns", "add", other).CombinedOutput(); err != nil {
			t.Fatalf("another process's ip netns add: %v %s", err, out)
		}
		if out, err := exec.Command("ip", "netns", "del", other).CombinedOutput(); err != nil {
			t.Fatalf("ip netns del %s: %v %s", other, err, out)
		}
		return // NewNetNS's cleanup must now delete ns
	}
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs kubefay-test /run && exec "$0" -test.run '^TestNetNSSurvivesAnotherCreator$' -test.v`, os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scenario in a private mount namespace: %v\n%s", err, out)
	}
}
