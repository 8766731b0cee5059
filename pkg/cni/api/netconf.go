package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/containernetworking/cni/pkg/types"
)

// Default per-command deadlines of the binary's call to the agent. ADD waits
// the longest after GC: it may wait for an IP, OVS ports and flows.
const (
	DefaultAddTimeout    = 30 * time.Second
	DefaultDelTimeout    = 30 * time.Second
	DefaultCheckTimeout  = 10 * time.Second
	DefaultStatusTimeout = 5 * time.Second
	DefaultGCTimeout     = 60 * time.Second
)

// NetConf is the part of kubefay's network configuration (one entry of the
// conflist's "plugins") that the binary itself reads. Everything else is
// forwarded untouched to the agent.
//
//	{"cniVersion": "1.1.0", "name": "kubefay", "type": "kubefay-cni",
//	 "agentSocket": "/var/run/kubefay/cni.sock",
//	 "timeouts": {"add": "30s", "del": "30s"}}
type NetConf struct {
	// CNIVersion is the requested CNI spec version of the result.
	CNIVersion string `json:"cniVersion"`
	// Name is the network name.
	Name string `json:"name"`
	// Type is the plugin binary name.
	Type string `json:"type"`
	// AgentSocket overrides DefaultSocketPath.
	AgentSocket string `json:"agentSocket,omitempty"`
	// Timeouts overrides the default deadlines per command.
	Timeouts Timeouts `json:"timeouts,omitempty"`
}

// Timeouts bounds how long the binary waits for the agent, per command. A
// zero value means the default.
type Timeouts struct {
	// Add is the deadline of ADD.
	Add Duration `json:"add,omitempty"`
	// Del is the deadline of DEL.
	Del Duration `json:"del,omitempty"`
	// Check is the deadline of CHECK.
	Check Duration `json:"check,omitempty"`
	// Status is the deadline of STATUS.
	Status Duration `json:"status,omitempty"`
	// GC is the deadline of GC.
	GC Duration `json:"gc,omitempty"`
}

// For returns the deadline of command c, the default when unset.
func (t Timeouts) For(c Command) time.Duration {
	pick := func(d Duration, def time.Duration) time.Duration {
		if d > 0 {
			return time.Duration(d)
		}
		return def
	}
	switch c {
	case CommandAdd:
		return pick(t.Add, DefaultAddTimeout)
	case CommandDel:
		return pick(t.Del, DefaultDelTimeout)
	case CommandCheck:
		return pick(t.Check, DefaultCheckTimeout)
	case CommandStatus:
		return pick(t.Status, DefaultStatusTimeout)
	case CommandGC:
		return pick(t.GC, DefaultGCTimeout)
	}
	return DefaultAddTimeout
}

// Duration is a time.Duration that reads from JSON as a Go duration string
// ("30s", "1m30s") or as a number of seconds.
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		if v < 0 {
			return fmt.Errorf("negative duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	secs, err := strconv.ParseFloat(string(b), 64)
	if err != nil || secs < 0 {
		return fmt.Errorf("invalid duration %s: want a string like \"30s\" or a number of seconds", b)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// SocketPath returns the agent socket to use.
func (n *NetConf) SocketPath() string {
	if n.AgentSocket != "" {
		return n.AgentSocket
	}
	return DefaultSocketPath
}

// ParseNetConf decodes the network configuration read from stdin. Bad JSON
// is a CNI decoding error (code 6); well-formed JSON with invalid kubefay
// fields is an invalid network configuration (code 7).
func ParseNetConf(stdin []byte) (*NetConf, *types.Error) {
	if !json.Valid(stdin) {
		return nil, types.NewError(types.ErrDecodingFailure, "network configuration is not valid JSON", truncate(string(stdin), 200))
	}
	var n NetConf
	dec := json.NewDecoder(bytes.NewReader(stdin))
	if err := dec.Decode(&n); err != nil {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "invalid kubefay network configuration", err.Error())
	}
	if n.Name == "" {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "network configuration has no name", "")
	}
	return &n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
