package podif

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
)

// HostIfName returns the deterministic host-side name of a pod interface:
// "kf" and 12 hex digits of sha256(containerID/ifName), 14 characters (Linux
// allows 15). Repeated ADDs and DELs for one attachment find the same name.
func HostIfName(containerID, ifName string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + ifName))
	return HostIfPrefix + hex.EncodeToString(sum[:6])
}

// HostIfPrefix starts the name of every pod veth's host end.
const HostIfPrefix = "kf"

// MACFromIP returns the pod MAC for ip: 0a:58 followed by the IPv4 address
// (or the last 4 bytes of an IPv6 one). 0x0a is a locally administered
// unicast prefix, so it never clashes with a vendor MAC; a given IP always has
// the same MAC, which keeps neighbour caches right when IPs are reused. A nil
// ip gives a random locally administered MAC.
func MACFromIP(ip net.IP) net.HardwareAddr {
	if ip == nil {
		return RandomMAC()
	}
	b := ip.To4()
	if b == nil {
		b = ip.To16()[12:]
	}
	return net.HardwareAddr{0x0a, 0x58, b[0], b[1], b[2], b[3]}
}

// RandomMAC returns a random locally administered unicast MAC.
func RandomMAC() net.HardwareAddr {
	m := make(net.HardwareAddr, 6)
	_, _ = rand.Read(m)
	m[0] = (m[0] &^ 0x01) | 0x02
	return m
}
