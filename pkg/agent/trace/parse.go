package trace

import (
	"bufio"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/kubefay/kubefay/pkg/agent/pipeline"
)

// Step is one table a packet went through and the flow it hit there.
type Step struct {
	// Table is the OpenFlow table number; TableName its pipeline name
	// ("" for a table the pipeline does not declare).
	Table     uint8  `json:"table"`
	TableName string `json:"tableName"`
	// Match and Priority of the flow hit; Miss when no flow matched.
	Match    string `json:"match,omitempty"`
	Priority int    `json:"priority"`
	Miss     bool   `json:"miss,omitempty"`
	// Cookie of the flow hit.
	Cookie uint64 `json:"cookie"`
	// Actions are the flow's actions as ofproto/trace prints them, and
	// Notes what OVS said about them (lines starting with -> or >>).
	Actions []string `json:"actions,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// Owner says who installed the flow (filled in by the agent).
	Owner string `json:"owner,omitempty"`
}

// Pass is one walk through br-int: a trace resumes in a new pass after
// each trip through conntrack.
type Pass struct {
	// CTState is the conntrack state the pass starts with ("" for the first).
	CTState string `json:"ctState,omitempty"`
	Steps   []Step `json:"steps"`
	// DatapathActions is what the datapath would do.
	DatapathActions string `json:"datapathActions,omitempty"`
}

// Trace is a parsed ofproto/trace output.
type Trace struct {
	Passes []Pass `json:"passes"`
}

var (
	stepLine   = regexp.MustCompile(`^\s{0,2}(\d+)\. (.*)$`)
	flowSuffix = regexp.MustCompile(`^(?:(.*), )?priority (\d+)(?:, cookie (0x[0-9a-f]+))?$`)
	ctState    = regexp.MustCompile(`[,\s]ct_state=([a-z|]+)`)
	outputPort = regexp.MustCompile(`^-> output port is (\d+)`)
	tunDstSet  = regexp.MustCompile(`^set_field:([0-9.]+)->tun_dst$`)
)

// Parse reads the text ofproto/trace printed.
func Parse(out string) (*Trace, error) {
	t := &Trace{}
	var pass *Pass
	var step *Step
	// The traced bridge is the first one a pass names; a tunnel output
	// continues the pass in the bridge holding the underlay (br-phy on
	// netdev), whose tables are not kubefay's and are left out.
	var traced string
	other := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Flow: "):
			t.Passes = append(t.Passes, Pass{})
			pass, step, other = &t.Passes[len(t.Passes)-1], nil, false
			if m := ctState.FindStringSubmatch(line); m != nil {
				pass.CTState = m[1]
			}
		case pass == nil:
		case strings.HasPrefix(line, "bridge(\""):
			if traced == "" {
				traced = line
			}
			other, step = line != traced, nil
		case other && !strings.HasPrefix(line, "Datapath actions: "):
		case strings.HasPrefix(line, "Datapath actions: "):
			pass.DatapathActions = strings.TrimPrefix(line, "Datapath actions: ")
			step = nil
		case strings.HasPrefix(line, "Final flow:"), strings.HasPrefix(line, "Megaflow:"):
			step = nil
		case stepLine.MatchString(line):
			m := stepLine.FindStringSubmatch(line)
			id, err := strconv.Atoi(m[1])
			if err != nil || id > 255 {
				return nil, fmt.Errorf("bad table number in %q", line)
			}
			s := Step{Table: uint8(id)}
			if tb, ok := pipeline.TableByID(s.Table); ok {
				s.TableName = tb.Name
			}
			if err := s.parseFlow(m[2]); err != nil {
				return nil, err
			}
			pass.Steps = append(pass.Steps, s)
			step = &pass.Steps[len(pass.Steps)-1]
		case step == nil || trimmed == "":
		case strings.HasPrefix(trimmed, "->"), strings.HasPrefix(trimmed, ">>"):
			step.Notes = append(step.Notes, trimmed)
		default:
			step.Actions = append(step.Actions, trimmed)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(t.Passes) == 0 {
		return nil, fmt.Errorf("no trace in the output of ofproto/trace")
	}
	return t, nil
}

// parseFlow reads "<match>, priority N, cookie 0x..." or "No match.".
func (s *Step) parseFlow(text string) error {
	if strings.HasPrefix(text, "No match") {
		s.Miss = true
		return nil
	}
	m := flowSuffix.FindStringSubmatch(text)
	if m == nil {
		return fmt.Errorf("unrecognised flow %q", text)
	}
	s.Match = m[1]
	s.Priority, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		c, err := strconv.ParseUint(m[3][2:], 16, 64)
		if err != nil {
			return fmt.Errorf("bad cookie in %q", text)
		}
		s.Cookie = c
	}
	return nil
}

// Last returns the final pass (the one whose actions the packet ends with).
func (t *Trace) Last() *Pass { return &t.Passes[len(t.Passes)-1] }

// Outputs returns the OpenFlow ports the pass sends the packet to.
func (p *Pass) Outputs() []uint32 {
	var out []uint32
	for _, s := range p.Steps {
		for _, n := range s.Notes {
			if m := outputPort.FindStringSubmatch(n); m != nil {
				if v, err := strconv.ParseUint(m[1], 10, 32); err == nil {
					out = append(out, uint32(v))
				}
			}
		}
	}
	return out
}

// TunnelDst returns the tunnel destination the pass set last (invalid if none).
func (p *Pass) TunnelDst() netip.Addr {
	var a netip.Addr
	for _, s := range p.Steps {
		for _, act := range s.Actions {
			if m := tunDstSet.FindStringSubmatch(act); m != nil {
				if v, err := netip.ParseAddr(m[1]); err == nil {
					a = v
				}
			}
		}
	}
	return a
}
