package server

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// peerListener accepts only connections whose peer process runs with the
// server's own user ID (root on a node: kubelet's runtime running the CNI
// binary), whatever the socket file's mode: defence in depth against a
// socket path exposed to a container or a loosened mode.
type peerListener struct {
	*net.UnixListener
	uid uint32
}

func newPeerListener(l *net.UnixListener) *peerListener {
	return &peerListener{UnixListener: l, uid: uint32(os.Geteuid())}
}

// Accept returns the next connection of an allowed peer; others are closed
// and logged.
func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return nil, err
		}
		cred, err := peerCred(c)
		if err == nil && cred.Uid == l.uid {
			return c, nil
		}
		if err == nil {
			err = fmt.Errorf("peer pid %d runs as uid %d, only uid %d may call", cred.Pid, cred.Uid, l.uid)
		}
		klog.InfoS("CNI socket: connection refused", "reason", err.Error())
		_ = c.Close()
	}
}

// peerCred reads SO_PEERCRED of a unix connection.
func peerCred(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) { cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return nil, err
	}
	return cred, cerr
}
