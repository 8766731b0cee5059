// Package datapath holds integration tests of the agent's CNI path on a real
// Open vSwitch without Kubernetes: the real agent.CNIHandler, flowsync,
// OpenFlow connection, OVSDB layer, pipeline and podif plumbing, with an
// in-memory allocator. Each test starts its own OVS
// instances in fresh network namespaces (pkg/ovs/ovstest); no packet leaves
// the machine.
//
// The datapath is the userspace netdev one unless KUBEFAY_DATAPATH=system
// (kernel openvswitch.ko, which this repository's hosts lack: hack/uml runs
// the suite in a User-Mode Linux guest, see the README).
//
// Run as root: go test -p 1 ./test/integration/datapath/
package datapath
