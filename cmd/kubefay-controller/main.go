// Command kubefay-controller is kubefay's cluster controller. See
// pkg/controller.
package main

import (
	"fmt"
	"os"

	"github.com/kubefay/kubefay/pkg/controller/app"
)

func main() {
	if err := app.NewCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "kubefay-controller:", err)
		os.Exit(1)
	}
}
