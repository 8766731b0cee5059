package cli

import (
	"strconv"

	"github.com/spf13/cobra"
)

func newSubnetListCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List subnets with their usage and namespaces",
		Long: "List every SubNet: CIDR, gateway, used and available addresses (counted\n" +
			"from the IPAMBlocks), namespaces (annotated `subnet: NAME` or\n" +
			"`kubefay.io/subnet: NAME`, or listed in spec.namespaces) and privacy.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSubnetList(cmd, o)
		},
	}
}

func runSubnetList(cmd *cobra.Command, o *Options) error {
	inv, err := load(cmd.Context(), o, true)
	if err != nil {
		return err
	}
	if len(inv.subnets) == 0 {
		o.warnf("no subnets found")
		return nil
	}
	w := newTable(o.out())
	row(w, "NAME", "CIDR", "GATEWAY", "USED", "AVAILABLE", "NAMESPACES", "PRIVATE")
	for i := range inv.subnets {
		r := buildReport(inv, &inv.subnets[i])
		avail := strconv.FormatInt(r.Pool.Available, 10)
		if r.Invalid != "" {
			avail = "<invalid>"
		}
		row(w, r.Name, r.Spec.CIDR, orDash(r.Gateway), strconv.FormatInt(r.Pool.Used, 10), avail,
			list(r.Namespaces), strconv.FormatBool(r.Spec.Private))
	}
	return w.Flush()
}
