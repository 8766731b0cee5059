package podif

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtoolValue is struct ethtool_value of <linux/ethtool.h>.
type ethtoolValue struct {
	cmd  uint32
	data uint32
}

// ifreqData is struct ifreq with ifr_data (a pointer) in its union.
type ifreqData struct {
	name [unix.IFNAMSIZ]byte
	data unsafe.Pointer
	_    [unsafe.Sizeof(unix.Ifreq{}) - unix.IFNAMSIZ - unsafe.Sizeof(unsafe.Pointer(nil))]byte
}

// ethtool runs one ethtool_value command (SIOCETHTOOL) on ifName through
// fd, a socket of the interface's network namespace.
func ethtool(fd int, ifName string, cmd, data uint32) (uint32, error) {
	if len(ifName) >= unix.IFNAMSIZ {
		return 0, fmt.Errorf("interface name %q too long", ifName)
	}
	val := &ethtoolValue{cmd: cmd, data: data}
	var ifr ifreqData
	copy(ifr.name[:], ifName)
	ifr.data = unsafe.Pointer(val)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(unix.SIOCETHTOOL), uintptr(unsafe.Pointer(&ifr)))
	if errno != 0 {
		return 0, errno
	}
	return val.data, nil
}

// setTxChecksum switches TX checksum offload of ifName on or off (what
// `ethtool -K IF tx on|off` does; the kernel also drops the offloads that
// depend on it, such as TSO).
func setTxChecksum(fd int, ifName string, on bool) error {
	var v uint32
	if on {
		v = 1
	}
	if _, err := ethtool(fd, ifName, unix.ETHTOOL_STXCSUM, v); err != nil {
		return fmt.Errorf("ethtool set tx-checksumming %s: %w", ifName, err)
	}
	return nil
}

// txChecksum reports whether TX checksum offload is on for ifName.
func txChecksum(fd int, ifName string) (bool, error) {
	v, err := ethtool(fd, ifName, unix.ETHTOOL_GTXCSUM, 0)
	if err != nil {
		return false, fmt.Errorf("ethtool get tx-checksumming %s: %w", ifName, err)
	}
	return v != 0, nil
}
