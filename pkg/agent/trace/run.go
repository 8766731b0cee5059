package trace

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// VswitchdTarget returns the control socket of the ovs-vswitchd whose run
// directory is runDir, for `ovs-appctl -t`: ovs-vswitchd.<pid>.ctl named
// by its pid file, else a plain ovs-vswitchd.ctl.
func VswitchdTarget(runDir string) (string, error) {
	if b, err := os.ReadFile(filepath.Join(runDir, "ovs-vswitchd.pid")); err == nil {
		ctl := filepath.Join(runDir, "ovs-vswitchd."+strings.TrimSpace(string(b))+".ctl")
		if _, err := os.Stat(ctl); err == nil {
			return ctl, nil
		}
	}
	ctl := filepath.Join(runDir, "ovs-vswitchd.ctl")
	if _, err := os.Stat(ctl); err != nil {
		return "", fmt.Errorf("no ovs-vswitchd control socket in %s", runDir)
	}
	return ctl, nil
}

// Run traces p through bridge with the ovs-vswitchd at target (see
// VswitchdTarget). ctNext, when set, is the conntrack state the packet
// comes back with (e.g. "trk,est,rpl" for a reply); the default is a new
// connection (trk,new). It returns the raw output and its parse.
func Run(ctx context.Context, target, bridge string, p Packet, ctNext string) (string, *Trace, error) {
	if err := p.Validate(); err != nil {
		return "", nil, err
	}
	args := []string{"-t", target, "ofproto/trace"}
	if ctNext != "" {
		args = append(args, "--ct-next", ctNext)
	}
	args = append(args, bridge, p.Flow())
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "ovs-appctl", args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", nil, fmt.Errorf("ovs-appctl ofproto/trace %s: %v: %s", p.Flow(), err, strings.TrimSpace(errOut.String()))
	}
	t, err := Parse(out.String())
	return out.String(), t, err
}
