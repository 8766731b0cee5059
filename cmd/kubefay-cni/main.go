// Command kubefay-cni is kubefay's CNI plugin binary. The container runtime
// runs it for every CNI command; it forwards the command to the node's
// kubefay agent over a unix socket (see pkg/cni/plugin).
package main

import "github.com/kubefay/kubefay/pkg/cni/plugin"

func main() {
	plugin.Main()
}
