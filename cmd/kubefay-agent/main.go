// Command kubefay-agent is kubefay's node agent. See pkg/agent.
package main

import (
	"fmt"
	"os"

	"github.com/kubefay/kubefay/pkg/agent/app"
)

func main() {
	if err := app.NewCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "kubefay-agent:", err)
		os.Exit(1)
	}
}
