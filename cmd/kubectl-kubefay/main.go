// Command kubectl-kubefay is a kubectl plugin ("kubectl kubefay ...") that
// shows kubefay's subnets, who holds each address, packet traces and flows. See pkg/cli.
package main

import (
	"fmt"
	"os"

	"github.com/kubefay/kubefay/pkg/cli"
)

func main() {
	if err := cli.NewCommand(nil).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
