// Package datapath holds integration tests of the agent's CNI path on a real
// Open vSwitch (userspace netdev datapath) without Kubernetes: the real
// agent.CNIHandler, flowsync, OpenFlow connection, OVSDB layer, pipeline and
// podif plumbing, with an in-memory allocator. Each test starts its own OVS
// instances in fresh network namespaces (pkg/ovs/ovstest); no packet leaves
// the machine.
//
// Run as root: go test -p 1 ./test/integration/datapath/
package datapath
