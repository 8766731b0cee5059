package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kubefay/kubefay/pkg/containerid"
)

// Output formats of `subnet show`.
const (
	// OutputText is the default, human-readable output.
	OutputText = ""
	// OutputWide adds the pod UID, full container ID, block and allocation
	// time to the list of used addresses.
	OutputWide = "wide"
	// OutputJSON prints the SubnetReport as JSON.
	OutputJSON = "json"
)

func newSubnetShowCommand(o *Options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a subnet: spec, usage, blocks and every used address",
		Long: "Show a SubNet's spec, its pool usage, the blocks nodes claimed and every\n" +
			"allocated address (unlike the SubNet's status, the list is not bounded).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case OutputText, OutputWide, OutputJSON:
			default:
				return fmt.Errorf("unknown output format %q (want wide or json)", output)
			}
			inv, err := load(cmd.Context(), o, true)
			if err != nil {
				return err
			}
			sn, ok := inv.subnet(args[0])
			if !ok {
				return fmt.Errorf("subnet %q not found", args[0])
			}
			r := buildReport(inv, sn)
			if output == OutputJSON {
				enc := json.NewEncoder(o.out())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			return printSubnet(o, r, output == OutputWide)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide or json")
	return cmd
}

func printSubnet(o *Options, r *SubnetReport, wide bool) error {
	out := o.out()
	nat := "true"
	if r.Spec.NATOutgoing != nil && !*r.Spec.NATOutgoing {
		nat = "false"
	}
	blockSize := "-"
	if r.BlockSize > 0 {
		blockSize = "/" + strconv.Itoa(r.BlockSize)
	}
	w := newTable(out)
	row(w, "Name:", r.Name)
	if r.Invalid != "" {
		row(w, "Invalid:", r.Invalid)
	}
	row(w, "CIDR:", r.Spec.CIDR)
	row(w, "Gateway:", orDash(r.Gateway))
	row(w, "Block size:", blockSize)
	row(w, "Exclude IPs:", list(r.Spec.ExcludeIPs))
	row(w, "NAT outgoing:", nat)
	row(w, "Private:", strconv.FormatBool(r.Spec.Private))
	row(w, "Allow subnets:", list(r.Spec.AllowSubnets))
	row(w, "Namespaces:", list(r.Namespaces))
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(out, "\nPool:")
	w = newTable(out)
	row(w, "  Capacity:", strconv.FormatInt(r.Pool.Capacity, 10))
	row(w, "  Used:", strconv.FormatInt(r.Pool.Used, 10))
	row(w, "  Available:", strconv.FormatInt(r.Pool.Available, 10))
	row(w, "  Excluded:", strconv.FormatInt(r.Pool.Excluded, 10))
	row(w, "  Usage:", fmt.Sprintf("%.1f%%", r.Pool.Percent))
	if r.Status.Used != r.Pool.Used || r.Status.Available != r.Pool.Available {
		row(w, "  Status:", fmt.Sprintf("used %d, available %d (not yet updated by the controller)", r.Status.Used, r.Status.Available))
	}
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "\nBlocks (%d):\n", len(r.Blocks))
	if len(r.Blocks) > 0 {
		w = newTable(out)
		row(w, "  CIDR", "NODE", "USED", "FREE")
		for _, b := range r.Blocks {
			row(w, "  "+b.CIDR, orDash(b.Node), fmt.Sprintf("%d/%d", b.Used, b.Size), strconv.Itoa(b.Free))
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "\nUsed IPs (%d):\n", len(r.UsedIPs))
	if len(r.UsedIPs) == 0 {
		return nil
	}
	return printUsedIPs(out, o, r.UsedIPs, wide)
}

func printUsedIPs(out io.Writer, o *Options, ips []UsedIP, wide bool) error {
	now := o.now()
	w := newTable(out)
	head := []string{"  IP", "NODE", "NAMESPACE", "POD", "CONTAINER", "INTERFACE", "STATIC", "AGE"}
	if wide {
		head = append(head, "POD UID", "BLOCK", "CREATED")
	}
	row(w, head...)
	for _, u := range ips {
		ns, pod := holder(u)
		id := containerid.Short(u.ContainerID)
		if wide {
			id = u.ContainerID
		}
		cells := []string{"  " + u.IP, orDash(u.Node), ns, pod, orDash(id), orDash(u.Interface), yesNo(u.Static), age(now, u.Created.Time)}
		if wide {
			created := "-"
			if !u.Created.IsZero() {
				created = u.Created.UTC().Format("2006-01-02T15:04:05Z")
			}
			cells = append(cells, orDash(u.PodUID), u.Block, created)
		}
		row(w, cells...)
	}
	return w.Flush()
}
