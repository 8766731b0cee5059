package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
)

// maxHops bounds a trace across nodes (a tunnel loop would not end).
const maxHops = 3

type traceFlags struct {
	from, to, proto, srcIP, output string
	port                           uint16
	reply, raw                     bool
}

func newTraceCommand(o *Options) *cobra.Command {
	var f traceFlags
	c := &cobra.Command{
		Use:   "trace --from NAMESPACE/POD --to NAMESPACE/POD|IP",
		Short: "Trace a packet through the OpenFlow pipeline, table by table",
		Long: "Trace a packet from a pod with ovs-appctl ofproto/trace on the pod's node, built\n" +
			"from the pod's real port, MAC and address, and print each table it goes through\n" +
			"with the owner of the flow it hits (pod, subnet, tunnel, NetworkPolicy rule,\n" +
			"isolation, spoof guard). A packet sent into the tunnel is traced on, on the node\n" +
			"it reaches. The last line says where it ends: delivered to a pod, sent to a node\n" +
			"through tun0, to the host via gw0, or dropped by whom in which table.\n\n" +
			"The agent is reached through the API server by exec'ing into its pod: you need\n" +
			"get/list pods and create pods/exec in the agent namespace.",
		Example: "  kubectl kubefay trace --from default/client --to default/web --port 80\n" +
			"  kubectl kubefay trace --from default/client --to 10.96.0.10 --proto udp --port 53\n" +
			"  kubectl kubefay trace --from default/client --to default/web --src-ip 10.192.0.99   # spoofed source",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTrace(cmd.Context(), o, f) },
	}
	c.Flags().StringVar(&f.from, "from", "", "source pod, NAMESPACE/NAME (required)")
	c.Flags().StringVar(&f.to, "to", "", "destination: a pod NAMESPACE/NAME or an IPv4 address (required)")
	c.Flags().StringVar(&f.proto, "proto", "tcp", "tcp, udp or icmp")
	c.Flags().Uint16Var(&f.port, "port", 80, "destination port (tcp, udp)")
	c.Flags().StringVar(&f.srcIP, "src-ip", "", "send with this source address instead of the pod's (spoofing)")
	c.Flags().BoolVar(&f.reply, "reply", false, "trace a packet of an established connection's reply direction (ct_state est,rpl) instead of a new connection")
	c.Flags().BoolVar(&f.raw, "raw", false, "also print ofproto/trace's own output")
	c.Flags().StringVarP(&f.output, "output", "o", "", "output format: json")
	_ = c.MarkFlagRequired("from")
	_ = c.MarkFlagRequired("to")
	return c
}

// podRef splits NAMESPACE/NAME ("default" when there is no namespace).
func podRef(s string) (string, string) {
	if ns, name, ok := strings.Cut(s, "/"); ok {
		return ns, name
	}
	return "default", s
}

func getPod(ctx context.Context, c client.Reader, ref string) (*corev1.Pod, error) {
	ns, name := podRef(ref)
	var p corev1.Pod
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &p); err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", ns, name, err)
	}
	return &p, nil
}

func runTrace(ctx context.Context, o *Options, f traceFlags) error {
	if f.output != "" && f.output != "json" {
		return fmt.Errorf("unknown output format %q (want json)", f.output)
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	src, err := getPod(ctx, c, f.from)
	if err != nil {
		return err
	}
	if src.Spec.HostNetwork || src.Spec.NodeName == "" {
		return fmt.Errorf("pod %s/%s is not on kubefay's network (host network or not scheduled)", src.Namespace, src.Name)
	}
	req := ctl.TraceRequest{FromPod: src.Namespace + "/" + src.Name, Proto: f.proto, DstPort: f.port}
	if f.reply {
		req.CTState = "trk,est,rpl"
	}
	if f.srcIP != "" {
		if req.SrcIP, err = netip.ParseAddr(f.srcIP); err != nil {
			return fmt.Errorf("--src-ip: %w", err)
		}
	}
	if req.DstIP, err = netip.ParseAddr(f.to); err != nil {
		dst, err := getPod(ctx, c, f.to)
		if err != nil {
			return err
		}
		if req.DstIP, err = netip.ParseAddr(dst.Status.PodIP); err != nil {
			return fmt.Errorf("pod %s/%s has no IP yet", dst.Namespace, dst.Name)
		}
	}
	call, err := o.callAgent()
	if err != nil {
		return err
	}
	hops, err := traceHops(ctx, call, src.Spec.NodeName, req)
	if f.output == "json" && len(hops) > 0 {
		enc := json.NewEncoder(o.out())
		enc.SetIndent("", "  ")
		if e := enc.Encode(hops); e != nil {
			return e
		}
		return err
	}
	printTrace(o.out(), hops, f.raw)
	return err
}

// traceHops traces on node, then on every node the packet is tunnelled to:
// the same inner packet entering from tun0 with the outer addresses the
// sender used.
func traceHops(ctx context.Context, call AgentCaller, node string, req ctl.TraceRequest) ([]*ctl.TraceResponse, error) {
	var hops []*ctl.TraceResponse
	for range maxHops {
		body, err := json.Marshal(req)
		if err != nil {
			return hops, err
		}
		out, err := call(ctx, node, ctl.PathTrace, body)
		if err != nil {
			return hops, fmt.Errorf("trace on node %s: %w", node, err)
		}
		var r ctl.TraceResponse
		if err := json.Unmarshal(out, &r); err != nil {
			return hops, fmt.Errorf("trace on node %s: bad answer: %w", node, err)
		}
		hops = append(hops, &r)
		if r.Verdict.Outcome != trace.Tunneled || r.TunnelNode == "" || r.TunnelNode == r.Verdict.TunnelDst.String() {
			return hops, nil
		}
		p := r.Packet
		p.InPort, p.TunSrc, p.TunDst = pipeline.TunnelOFPort, r.NodeIP, r.Verdict.TunnelDst
		req = ctl.TraceRequest{Packet: &p, CTState: req.CTState}
		node = r.TunnelNode
	}
	return hops, nil
}

// printTrace prints each node's walk through the pipeline and the final line.
func printTrace(w io.Writer, hops []*ctl.TraceResponse, raw bool) {
	for i, h := range hops {
		p := h.Packet
		if i == 0 {
			fmt.Fprintf(w, "%s %s:%s -> %s:%s\n\n", p.Proto, p.SrcIP, port(p, p.SrcPort, trace.DefaultSrcPort), p.DstIP, port(p, p.DstPort, 0))
		}
		from := fmt.Sprintf("port %d, %s", p.InPort, p.SrcMAC)
		if p.TunDst.IsValid() {
			from = fmt.Sprintf("tun0 from %s", p.TunSrc)
		}
		fmt.Fprintf(w, "node %s (%s), packet enters on %s\n", h.Node, h.NodeIP, from)
		tw := newTable(w)
		for j, pass := range h.Trace.Passes {
			if j > 0 {
				row(tw, "  ~ conntrack", "", "ct_state="+pass.CTState, "")
			}
			for _, s := range pass.Steps {
				name := s.TableName
				if name == "" {
					name = fmt.Sprintf("table %d", s.Table)
				}
				owner, prio := s.Owner, fmt.Sprintf("prio %d", s.Priority)
				if s.Miss {
					owner, prio = "no matching flow", "miss"
				}
				row(tw, "  "+name, prio, owner, strings.Join(s.Actions, "; "))
			}
		}
		tw.Flush()
		fmt.Fprintf(w, "  => %s\n\n", h.Summary)
		if raw {
			fmt.Fprintln(w, h.Raw)
		}
	}
	if len(hops) > 0 {
		last := hops[len(hops)-1]
		fmt.Fprintf(w, "%s (node %s)\n", last.Summary, last.Node)
	}
}

// port renders a TCP/UDP port of p, def when unset.
func port(p trace.Packet, n, def uint16) string {
	if p.Proto == "icmp" {
		return "-"
	}
	if n == 0 {
		n = def
	}
	return fmt.Sprint(n)
}
