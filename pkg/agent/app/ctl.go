package app

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
)

// newCtlCommand is `kubefay-agent ctl PATH [JSON]`: one request to the
// running agent's control socket, its JSON answer on stdout. It runs inside
// the agent container, where `kubectl kubefay` execs it (pods/exec).
func newCtlCommand() *cobra.Command {
	var socket string
	var timeout time.Duration
	c := &cobra.Command{
		Use:    "ctl PATH [JSON]",
		Short:  "ask the running agent on this node (status, flows, trace) over its control socket",
		Hidden: true,
		Args:   cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			var body []byte
			if len(args) == 2 {
				body = []byte(args[1])
			}
			out, err := ctl.Call(ctx, socket, args[0], body)
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(out)
			return err
		},
	}
	c.Flags().StringVar(&socket, "socket", ctl.DefaultSocket, "the agent's control socket")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "give up after this long")
	return c
}
