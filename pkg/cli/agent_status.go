package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
)

func newAgentCommand(o *Options) *cobra.Command {
	agent := &cobra.Command{Use: "agent", Short: "Inspect the kubefay agents"}
	var output string
	status := &cobra.Command{
		Use:   "status",
		Short: "Per node: OVS connection, readiness, pods, flows per table, last sync, version",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runAgentStatus(cmd.Context(), o, output) },
	}
	status.Flags().StringVarP(&output, "output", "o", "", "output format: json")
	agent.AddCommand(status)
	return agent
}

// nodeStatus is one node's answer (or why there is none).
type nodeStatus struct {
	Node   string      `json:"node"`
	Status *ctl.Status `json:"status,omitempty"`
	Error  string      `json:"error,omitempty"`
}

func runAgentStatus(ctx context.Context, o *Options, output string) error {
	if output != "" && output != "json" {
		return fmt.Errorf("unknown output format %q (want json)", output)
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	pods, err := agentPods(ctx, c, o.agentNamespace, "")
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		return fmt.Errorf("no running kubefay agent pod in namespace %s", o.agentNamespace)
	}
	call, err := o.callAgent()
	if err != nil {
		return err
	}
	var all []nodeStatus
	for _, p := range pods {
		ns := nodeStatus{Node: p.Spec.NodeName}
		out, err := call(ctx, p.Spec.NodeName, ctl.PathStatus, nil)
		if err == nil {
			var st ctl.Status
			if err = json.Unmarshal(out, &st); err == nil {
				ns.Status = &st
			}
		}
		if err != nil {
			ns.Error = err.Error()
		}
		all = append(all, ns)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Node < all[j].Node })
	if output == "json" {
		enc := json.NewEncoder(o.out())
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	printAgentStatus(o, all)
	return nil
}

func printAgentStatus(o *Options, all []nodeStatus) {
	tw := newTable(o.out())
	row(tw, "NODE", "OVS", "READY", "PODS", "FLOWS", "LAST SYNC", "VERSION")
	var tables []ctl.TableFlows
	for _, n := range all {
		st := n.Status
		if st == nil {
			row(tw, n.Node, "?", "?", "-", "-", "-", "error: "+n.Error)
			continue
		}
		flows := 0
		for _, t := range st.Tables {
			flows += t.Flows
		}
		tables = st.Tables
		ovs, ready, last := "disconnected", yesNo(st.Ready), "never"
		if st.OVSConnected {
			ovs = "connected"
		}
		if !st.Ready && st.NotReadyReason != "" {
			ready = "no: " + st.NotReadyReason
		}
		if !st.LastSync.IsZero() {
			last = duration.HumanDuration(o.now().Sub(st.LastSync)) + " ago"
		}
		row(tw, n.Node, ovs, ready, fmt.Sprint(st.Pods), fmt.Sprintf("%d/%d", flows, st.DesiredFlows), last, st.Version)
	}
	tw.Flush()
	if tables == nil {
		return
	}
	fmt.Fprintln(o.out(), "\nflows per table (installed):")
	tw = newTable(o.out())
	head := []string{"TABLE"}
	for _, n := range all {
		head = append(head, n.Node)
	}
	row(tw, head...)
	for i, t := range tables {
		cells := []string{fmt.Sprintf("%d %s", t.Table, t.Name)}
		for _, n := range all {
			if n.Status == nil || i >= len(n.Status.Tables) {
				cells = append(cells, "-")
				continue
			}
			cells = append(cells, fmt.Sprint(n.Status.Tables[i].Flows))
		}
		row(tw, cells...)
	}
	tw.Flush()
}
