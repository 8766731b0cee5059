package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
)

func newFlowsCommand(o *Options) *cobra.Command {
	var pod, node, table, output string
	c := &cobra.Command{
		Use:   "flows --pod NAMESPACE/NAME | --node NODE [--table NAME]",
		Short: "Show the OpenFlow flows of a pod or a node with their owners and counters",
		Long: "Show the flows installed on a node's br-int, each with the table name, the owner\n" +
			"decoded from its cookie (pod, subnet, tunnel, NetworkPolicy rule, isolation) and\n" +
			"its packet counter. With --pod: the pod's own flows and every flow matching its\n" +
			"address, on the pod's node.",
		Example: "  kubectl kubefay flows --pod default/web --table IngressRules\n" +
			"  kubectl kubefay flows --node node1 --table Classifier",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFlows(cmd.Context(), o, pod, node, table, output)
		},
	}
	c.Flags().StringVar(&pod, "pod", "", "the pod, NAMESPACE/NAME")
	c.Flags().StringVar(&node, "node", "", "every kubefay flow of this node")
	c.Flags().StringVar(&table, "table", "", "only this table (name, e.g. IngressRules, or number)")
	c.Flags().StringVarP(&output, "output", "o", "", "output format: json")
	c.MarkFlagsMutuallyExclusive("pod", "node")
	c.MarkFlagsOneRequired("pod", "node")
	return c
}

func runFlows(ctx context.Context, o *Options, pod, node, table, output string) error {
	if output != "" && output != "json" {
		return fmt.Errorf("unknown output format %q (want json)", output)
	}
	req := ctl.FlowsRequest{Table: table}
	if pod != "" {
		c, err := o.client()
		if err != nil {
			return err
		}
		p, err := getPod(ctx, c, pod)
		if err != nil {
			return err
		}
		if p.Spec.HostNetwork || p.Spec.NodeName == "" {
			return fmt.Errorf("pod %s/%s is not on kubefay's network (host network or not scheduled)", p.Namespace, p.Name)
		}
		node, req.Pod = p.Spec.NodeName, p.Namespace+"/"+p.Name
	}
	call, err := o.callAgent()
	if err != nil {
		return err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	out, err := call(ctx, node, ctl.PathFlows, body)
	if err != nil {
		return err
	}
	var resp ctl.FlowsResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("bad answer from the agent on %s: %w", node, err)
	}
	if output == "json" {
		enc := json.NewEncoder(o.out())
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	tw := newTable(o.out())
	row(tw, "TABLE", "PRIORITY", "PACKETS", "OWNER", "FLOW")
	for _, f := range resp.Flows {
		name := f.TableName
		if name == "" {
			name = fmt.Sprint(f.Table)
		}
		row(tw, name, fmt.Sprint(f.Priority), fmt.Sprint(f.Packets), f.Owner, f.Text)
	}
	return tw.Flush()
}
