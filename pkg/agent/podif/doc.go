// Package podif plumbs a pod's network interface on Linux: a veth pair whose
// pod end is created directly inside the pod's network namespace (one
// RTM_NEWLINK, no create-then-move), configured there with its MAC, MTU,
// address, routes and, when the datapath needs it, TX checksum offload off,
// and announced with a gratuitous ARP. The host end gets ARP off (the node
// must never answer a pod's ARP), IPv6 off and is brought up; attaching it
// to a switch is the caller's business.
//
// Everything is idempotent: a repeated Configure reuses a pair that is
// already wired to the right namespace, Teardown of a missing interface
// succeeds.
//
// Host-side operations happen in the caller's network namespace, or in
// Plumber.HostNetNSPath when set (tests use a throw-away namespace for it).
package podif
