package agent

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubefay/kubefay/pkg/agent/ctl"
	"github.com/kubefay/kubefay/pkg/agent/flowsync"
	"github.com/kubefay/kubefay/pkg/agent/networkpolicy"
	"github.com/kubefay/kubefay/pkg/agent/pipeline"
	"github.com/kubefay/kubefay/pkg/agent/trace"
	of "github.com/kubefay/kubefay/pkg/ovs/openflow"
	"github.com/kubefay/kubefay/pkg/version"
)

// ControlDeps is what the local control API (pkg/agent/ctl) reads from a
// running agent.
type ControlDeps struct {
	// Node, NodeIP (its underlay address), the bridge and the OVS run
	// directory (where ovs-vswitchd's control socket is).
	Node      string
	NodeIP    netip.Addr
	Bridge    string
	OVSRunDir string
	Conn      *of.Conn
	Flows     *flowsync.Syncer[*of.Flow]
	Ports     Ports
	// Cache reads SubNets, IPAMBlocks and Nodes (the informers).
	Cache client.Reader
	// Connected, Ready and LastSync report the agent's state; nil means
	// connected, ready, never synced.
	Connected func() bool
	Ready     func() (bool, string)
	LastSync  func() time.Time
	// Policies names NetworkPolicy rules and isolations; nil: none.
	Policies PolicyNames
}

// PolicyNames tells which NetworkPolicy a rule cookie belongs to and which
// policies isolate a pod (pkg/agent/networkpolicy.Engine, locked).
type PolicyNames interface {
	Rules() []networkpolicy.RuleInfo
	IsolatingPolicies(pod string, dir networkpolicy.Direction) []string
}

// NewControlBackend returns the agent's answers to the local control API.
func NewControlBackend(d ControlDeps) ctl.Backend { return &ctlBackend{d: d} }

// ctlBackend answers the local control API from the running agent's state.
type ctlBackend struct{ d ControlDeps }

// Status implements ctl.Backend.
func (b *ctlBackend) Status(ctx context.Context) (*ctl.Status, error) {
	st := &ctl.Status{Node: b.d.Node, Version: version.Version, OVSConnected: true, Ready: true,
		DesiredFlows: len(b.d.Flows.Desired())}
	if b.d.Connected != nil {
		st.OVSConnected = b.d.Connected()
	}
	if b.d.Ready != nil {
		st.Ready, st.NotReadyReason = b.d.Ready()
	}
	if b.d.LastSync != nil {
		st.LastSync = b.d.LastSync()
	}
	ports, err := b.d.Ports.ListPodPorts(ctx)
	if err != nil {
		return nil, fmt.Errorf("pod ports: %w", err)
	}
	st.Pods = len(ports)
	perTable := map[uint8]int{}
	if st.OVSConnected {
		stats, err := b.installed(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range stats {
			perTable[s.Flow.Table]++
		}
	}
	for _, t := range pipeline.Tables {
		st.Tables = append(st.Tables, ctl.TableFlows{Table: t.ID, Name: t.Name, Flows: perTable[t.ID]})
	}
	return st, nil
}

func (b *ctlBackend) installed(ctx context.Context) ([]of.FlowStats, error) {
	stats, err := b.d.Conn.FlowStats(ctx, &of.FlowFilter{Table: of.TableAll,
		Cookie: pipeline.CookieMagic, CookieMask: pipeline.CookieMagicMask})
	if err != nil {
		return nil, fmt.Errorf("read flows from ovs-vswitchd: %w", err)
	}
	return stats, nil
}

// owners gathers what names the flows' owners: pod ports, the cluster view
// (subnets, blocks, nodes) and the NetworkPolicy rules.
func (b *ctlBackend) owners(ctx context.Context) (*owners, []localPod, error) {
	ports, err := b.d.Ports.ListPodPorts(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("pod ports: %w", err)
	}
	pods := podsFromPorts(ports)
	v, err := readView(ctx, b.d.Cache)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster view: %w", err)
	}
	var rules []networkpolicy.RuleInfo
	if b.d.Policies != nil {
		rules = b.d.Policies.Rules()
	}
	o := newOwners(pods, v, b.d.Node, rules)
	if b.d.Policies != nil {
		o.isolating = b.d.Policies.IsolatingPolicies
	}
	return o, pods, nil
}

// Flows implements ctl.Backend.
func (b *ctlBackend) Flows(ctx context.Context, req ctl.FlowsRequest) (*ctl.FlowsResponse, error) {
	o, pods, err := b.owners(ctx)
	if err != nil {
		return nil, err
	}
	keep, err := flowFilter(req, pods)
	if err != nil {
		return nil, err
	}
	stats, err := b.installed(ctx)
	if err != nil {
		return nil, err
	}
	resp := &ctl.FlowsResponse{Node: b.d.Node, Flows: []ctl.Flow{}}
	for _, s := range stats {
		if !keep(s.Flow) {
			continue
		}
		name := ""
		if t, ok := pipeline.TableByID(s.Flow.Table); ok {
			name = t.Name
		}
		resp.Flows = append(resp.Flows, ctl.Flow{Table: s.Flow.Table, TableName: name, Priority: s.Flow.Priority,
			Cookie: s.Flow.Cookie, Owner: o.name(s.Flow.Cookie, s.Flow.Table), Text: s.Flow.String(),
			Packets: s.Packets, Bytes: s.Bytes})
	}
	sort.SliceStable(resp.Flows, func(i, j int) bool {
		a, c := resp.Flows[i], resp.Flows[j]
		if a.Table != c.Table {
			return a.Table < c.Table
		}
		return a.Priority > c.Priority
	})
	return resp, nil
}

// flowFilter selects flows by table (name or number) and by pod: the pod's
// own flows (its cookie) and every flow matching its address.
func flowFilter(req ctl.FlowsRequest, pods []localPod) (func(*of.Flow) bool, error) {
	table := -1
	if req.Table != "" {
		for _, t := range pipeline.Tables {
			if strings.EqualFold(t.Name, req.Table) || strconv.Itoa(int(t.ID)) == req.Table {
				table = int(t.ID)
			}
		}
		if table < 0 {
			return nil, fmt.Errorf("no table %q in the pipeline", req.Table)
		}
	}
	var pod *localPod
	if req.Pod != "" {
		for i := range pods {
			if pods[i].Key == req.Pod {
				pod = &pods[i]
			}
		}
		if pod == nil {
			return nil, fmt.Errorf("pod %s has no port on this node", req.Pod)
		}
	}
	return func(f *of.Flow) bool {
		if table >= 0 && int(f.Table) != table {
			return false
		}
		if pod == nil || f.Cookie == pipeline.Cookie(pipeline.FeaturePod, uint64(pod.OFPort)) {
			return true
		}
		return matchesAddr(f.String(), pod.IP)
	}, nil
}

// matchesAddr reports whether the flow text matches ip exactly in one of
// its address fields.
func matchesAddr(text string, ip netip.Addr) bool {
	match, _, _ := strings.Cut(text, " actions=")
	for _, tok := range strings.FieldsFunc(match, func(r rune) bool { return r == ',' || r == ' ' }) {
		k, v, ok := strings.Cut(tok, "=")
		if ok && v == ip.String() && (k == "nw_src" || k == "nw_dst" || k == "arp_tpa" || k == "arp_spa") {
			return true
		}
	}
	return false
}

// Trace implements ctl.Backend.
func (b *ctlBackend) Trace(ctx context.Context, req ctl.TraceRequest) (*ctl.TraceResponse, error) {
	o, pods, err := b.owners(ctx)
	if err != nil {
		return nil, err
	}
	p, err := tracePacket(req, pods)
	if err != nil {
		return nil, err
	}
	target, err := trace.VswitchdTarget(b.d.OVSRunDir)
	if err != nil {
		return nil, err
	}
	raw, t, err := trace.Run(ctx, target, b.d.Bridge, p, req.CTState)
	if err != nil {
		return nil, err
	}
	v := t.Verdict() // v.Step points into t: annotate fills in its owner too
	resp := &ctl.TraceResponse{Node: b.d.Node, NodeIP: b.d.NodeIP, Packet: p, Trace: t, Raw: raw, Verdict: v}
	resp.Summary = o.annotate(t, p, v)
	if v.Outcome == trace.Tunneled {
		resp.TunnelNode = o.node(v.TunnelDst)
	}
	return resp, nil
}

// tracePacket builds the packet of req: from a local pod's port, MAC and
// address (a spoofed source if asked), to the destination MAC the pod
// would use (a local pod of its subnet: that pod's MAC, answered by
// ARPResponder; anything else: the router MAC).
func tracePacket(req ctl.TraceRequest, pods []localPod) (trace.Packet, error) {
	if req.FromPod == "" {
		if req.Packet == nil {
			return trace.Packet{}, fmt.Errorf("trace needs a source pod or a packet")
		}
		return *req.Packet, req.Packet.Validate()
	}
	var src *localPod
	for i := range pods {
		if pods[i].Key == req.FromPod {
			src = &pods[i]
		}
	}
	if src == nil {
		return trace.Packet{}, fmt.Errorf("pod %s has no port on this node", req.FromPod)
	}
	p := trace.Packet{InPort: src.OFPort, SrcMAC: src.MAC, DstMAC: pipeline.RouterMAC.String(),
		SrcIP: src.IP, DstIP: req.DstIP, Proto: req.Proto, DstPort: req.DstPort}
	if req.SrcIP.IsValid() {
		p.SrcIP = req.SrcIP
	}
	if req.SrcMAC != "" {
		p.SrcMAC = req.SrcMAC
	}
	if p.Proto == "" {
		p.Proto = "tcp"
	}
	for _, d := range pods {
		if d.IP == req.DstIP && d.Subnet == src.Subnet && d.MAC != "" {
			p.DstMAC = d.MAC
		}
	}
	return p, p.Validate()
}
