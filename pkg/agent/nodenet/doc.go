// Package nodenet owns the host side of a node's network: the addresses and
// routes of gw0, the sysctls that let the host forward pod traffic, and the
// nftables table `ip kubefay` that masquerades pod traffic leaving the
// cluster and keeps pods away from the tunnel ports.
//
// Everything is desired state: Reconciler.Apply reads what the kernel has, compares
// it with Desired and changes only the difference. There is no sequence that
// breaks when interrupted: a crash at any point leaves a state the next
// Apply repairs, so the agent simply calls it again (at start-up, on every
// SubNet change, and periodically).
//
// # Topology (docs/design.md, "Node topology")
//
// gw0 carries, in this order:
//  1. the node's own address in defaultnet as a /32. It must be the first
//     (primary) IPv4 address in the kernel's list: the kernel picks the first
//     primary address of the outgoing device as the source of host-originated
//     packets and of masquerade to that device.
//  2. the gateway of every SubNet as a /32 (the same anycast gateway on every
//     node).
//
// Every SubNet gets `<cidr> dev gw0 src <node address> scope link proto 75`.
//
// # Ownership
//
//   - gw0 is kubefay's device: every IPv4 address on it that is not desired is
//     stale and removed. IPv6 addresses (link-local) are left alone.
//   - Routes are recognised by their routing protocol number, RouteProtocol
//     (75 = 0x4b, ASCII 'K'; not assigned in /etc/iproute2/rt_protos, shown as
//     "proto 75" by ip-route(8)). Only routes of the main table with that
//     protocol are ever changed or deleted; a foreign route that occupies a
//     desired destination is reported as a conflict, never replaced.
//   - The nftables table `ip kubefay` is kubefay's alone and is rewritten as a
//     whole in one nft transaction whenever its listing differs from what the
//     Reconciler wrote last (or the desired content changed).
//
// # Sysctls
//
// In the network namespace of the node: net.ipv4.ip_forward=1, and
// net.ipv4.conf.all.send_redirects=0 because the kernel sends redirects when
// either "all" or the device says so (pod traffic hairpins through gw0: in and
// out of the same device, which would otherwise make the host send ICMP
// redirects to pods). On gw0: send_redirects=0, rp_filter=2 (loose; the
// kernel uses max(all, dev), so 2 is loose whatever "all" is, whereas 0 would
// inherit a strict "all"), arp_ignore=1 (answer ARP only for addresses of gw0
// itself) and arp_announce=2 (ARP requests out of gw0 carry gw0's primary
// address, the node address). Remove leaves sysctls alone: other software may
// rely on forwarding.
//
// # nftables and other tables
//
// Base chains of different tables hooked at the same point are independent:
// the packet runs through all of them in priority order; an "accept" only ends
// the chain that issued it, while a "drop" anywhere is final. So the accept
// rules in kubefay's forward chain can never override a drop of another table
// (iptables-nft's `ip filter FORWARD`, kube-proxy's `ip kube-proxy`, Docker's
// FORWARD policy drop), and they do not bypass kube-proxy's own drops and
// rejects either (conntrack INVALID, services without endpoints), which is what
// we want. kube-proxy in iptables or nftables mode does not set a drop policy
// on FORWARD, so pods forward through the host with kube-proxy alone. A host
// whose FORWARD policy is drop (Docker does this) needs accept rules for gw0
// in that same chain (e.g. `iptables -I FORWARD -i gw0 -j ACCEPT` and `-o
// gw0`): kubefay's table cannot provide them. The only pod traffic kubefay's
// table drops is UDP to the VXLAN and Geneve ports, in the forward chain (to
// other nodes: masqueraded to this node's address, a forged tunnel datagram
// would pass the peer's tunnel source check) and in the input chain (to this
// node).
//
// The postrouting chain runs at priority srcnat+10, after iptables-nft's nat
// POSTROUTING (srcnat) where kube-proxy masquerades service traffic: the first
// nat chain that sets up a NAT binding for a connection wins, so kube-proxy
// decides first and kubefay only masquerades what kube-proxy left alone.
//
// # MTU
//
// MTU returns the MTU for pods and gw0: an explicit configuration when given,
// otherwise DetectMTU, the MTU of the underlay (the device holding the node's
// underlay IP, or the device of the default route) minus the tunnel overhead
// (TunnelOverhead), lowered by an MTU set on the default route.
//
// # Namespaces and threads
//
// Apply and Remove act on the network namespace of the calling OS thread
// (netlink sockets, /proc/sys/net, and the nft child process all follow the
// thread). A caller that switches namespaces must lock the OS thread.
package nodenet
