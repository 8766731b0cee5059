package nodenet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sysctl is one kernel parameter, named with '/' as under /proc/sys.
type sysctl struct{ name, value string }

// desiredSysctls lists the parameters Reconcile enforces (see the package
// documentation for why each one).
func desiredSysctls(iface string) []sysctl {
	dev := "net/ipv4/conf/" + iface // a '.' in a device name stays a '.' under /proc/sys
	return []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv4/conf/all/send_redirects", "0"},
		{dev + "/send_redirects", "0"},
		{dev + "/rp_filter", "2"},
		{dev + "/arp_ignore", "1"},
		{dev + "/arp_announce", "2"},
	}
}

// procSys is where the sysctls live; /proc/sys/net follows the network
// namespace of the calling thread.
const procSys = "/proc/sys"

// syncSysctls writes every parameter whose value differs.
func syncSysctls(iface string, log changeLog) error {
	var errs []error
	for _, s := range desiredSysctls(iface) {
		path := filepath.Join(procSys, s.name)
		cur, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading sysctl %s: %w", s.name, err))
			continue
		}
		if strings.TrimSpace(string(cur)) == s.value {
			continue
		}
		if err := os.WriteFile(path, []byte(s.value), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("setting sysctl %s=%s: %w", s.name, s.value, err))
			continue
		}
		log("sysctl %s=%s (was %s)", strings.ReplaceAll(s.name, "/", "."), s.value, strings.TrimSpace(string(cur)))
	}
	return errors.Join(errs...)
}
