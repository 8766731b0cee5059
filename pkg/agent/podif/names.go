package podif

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
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
// the same MAC, which keeps neighbour caches right when IPs are reused. An
// invalid (zero) ip gives a random locally administered MAC.
func MACFromIP(ip netip.Addr) net.HardwareAddr {
	if !ip.IsValid() {
		return RandomMAC()
	}
	b := ip.As16()
	return net.HardwareAddr{0x0a, 0x58, b[12], b[13], b[14], b[15]}
}

// RandomMAC returns a random locally administered unicast MAC.
func RandomMAC() net.HardwareAddr {
	m := make(net.HardwareAddr, 6)
	_, _ = rand.Read(m)
	m[0] = (m[0] &^ 0x01) | 0x02
	return m
}
