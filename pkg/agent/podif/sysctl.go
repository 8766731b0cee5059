package podif

import (
	"errors"
	"os"
	"path/filepath"
)

// disableIPv6 writes net.ipv6.conf.<ifName>.disable_ipv6=1 in the calling
// thread's network namespace. A kernel without IPv6 has nothing to disable.
func disableIPv6(ifName string) error {
	p := filepath.Join("/proc/sys/net/ipv6/conf", ifName, "disable_ipv6")
	err := os.WriteFile(p, []byte("1"), 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
