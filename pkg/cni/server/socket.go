package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// listenUnix binds a unix socket at path with the given permissions. A stale
// socket (nothing accepts on it) is replaced; a live one is an error, so a
// second agent cannot steal the first one's clients. The socket is created
// under a temporary name, chmod'ed, then renamed into place, so it is never
// reachable with looser permissions.
func listenUnix(path string, mode os.FileMode) (*net.UnixListener, uint64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, 0, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, 0, fmt.Errorf("%s exists and is not a socket", path)
		}
		c, err := net.DialTimeout("unix", path, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return nil, 0, fmt.Errorf("another process is serving on %s", path)
		}
		// Stale: replaced by the rename below.
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, 0, err
	}
	tmp := path + ".tmp." + strconv.Itoa(os.Getpid())
	_ = os.Remove(tmp)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, 0, err
	}
	l.SetUnlinkOnClose(false)
	fail := func(err error) (*net.UnixListener, uint64, error) {
		l.Close()
		os.Remove(tmp)
		return nil, 0, err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	ino, err := inode(path)
	if err != nil {
		return fail(err)
	}
	return l, ino, nil
}

// removeIfOurs removes path if it is still the socket we created (a newer
// agent may have replaced it meanwhile).
func removeIfOurs(path string, ino uint64) {
	if got, err := inode(path); err == nil && got == ino {
		_ = os.Remove(path)
	}
}

func inode(path string) (uint64, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, fmt.Errorf("no inode for %s", path)
	}
	return st.Ino, nil
}
