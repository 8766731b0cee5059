// Package plugin is the logic of the kubefay-cni binary: a thin CNI plugin
// (spec 1.1, results convertible down to 0.3.0) that forwards every command
// to the node's kubefay agent over a unix socket and prints the agent's
// answer in the cniVersion the runtime asked for.
package plugin

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	cniversion "github.com/containernetworking/cni/pkg/version"

	"github.com/kubefay/kubefay/pkg/cni/api"
	"github.com/kubefay/kubefay/pkg/cni/client"
	"github.com/kubefay/kubefay/pkg/version"
)

// SupportedVersions are the CNI spec versions kubefay-cni accepts in a
// network configuration and can print results in.
var SupportedVersions = cniversion.PluginSupports("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")

// About is printed on stderr when the binary runs without CNI_COMMAND.
func About() string {
	return "kubefay-cni " + version.Version + ": CNI plugin forwarding to the kubefay agent"
}

// Plugin runs CNI commands. The zero value prints to os.Stdout.
type Plugin struct {
	// Stdout receives ADD results; nil means os.Stdout.
	Stdout io.Writer
}

// Main runs the plugin as a process: reads the CNI environment and stdin,
// prints the result or the CNI error JSON on stdout and exits 1 on error.
func Main() {
	p := &Plugin{}
	skel.PluginMainFuncs(p.Funcs(), SupportedVersions, About())
}

// Funcs returns the callbacks for skel.
func (p *Plugin) Funcs() skel.CNIFuncs {
	return skel.CNIFuncs{
		Add:    p.Add,
		Del:    p.Del,
		Check:  p.Check,
		Status: p.Status,
		GC:     p.GC,
	}
}

// Add forwards CNI ADD and prints the result.
func (p *Plugin) Add(args *skel.CmdArgs) error { return p.run(api.CommandAdd, args) }

// Del forwards CNI DEL.
func (p *Plugin) Del(args *skel.CmdArgs) error { return p.run(api.CommandDel, args) }

// Check forwards CNI CHECK.
func (p *Plugin) Check(args *skel.CmdArgs) error { return p.run(api.CommandCheck, args) }

// Status forwards CNI STATUS. When the agent cannot be reached the answer is
// code 50 (plugin not available), as the spec asks of STATUS.
func (p *Plugin) Status(args *skel.CmdArgs) error {
	err := p.run(api.CommandStatus, args)
	if e, ok := err.(*types.Error); ok && e.Code == types.ErrTryAgainLater {
		return types.NewError(types.ErrPluginNotAvailable, e.Msg, e.Details)
	}
	return err
}

// GC forwards CNI GC (the valid attachments travel in the netconf).
func (p *Plugin) GC(args *skel.CmdArgs) error { return p.run(api.CommandGC, args) }

// run returns nil or a *types.Error (never another error type, so skel
// prints exactly what we chose).
func (p *Plugin) run(cmd api.Command, args *skel.CmdArgs) error {
	conf, cerr := api.ParseNetConf(args.StdinData)
	if cerr != nil {
		return cerr
	}
	pod, err := api.ParsePodArgs(args.Args)
	if err != nil {
		return types.NewError(types.ErrInvalidEnvironmentVariables, "invalid CNI_ARGS", err.Error())
	}
	req := &api.Request{
		Command:     cmd,
		ContainerID: args.ContainerID,
		Netns:       args.Netns,
		IfName:      args.IfName,
		Args:        args.Args,
		Pod:         pod,
		CNIVersion:  conf.CNIVersion,
		NetConf:     args.StdinData,
	}
	raw, cerr := client.New(conf.SocketPath()).Do(context.Background(), req, conf.Timeouts.For(cmd))
	if cerr != nil {
		return cerr
	}
	if cmd != api.CommandAdd {
		return nil
	}
	return p.printResult(raw, conf.CNIVersion)
}

// printResult converts the agent's 1.1.0 result to the requested version.
func (p *Plugin) printResult(raw []byte, cniVersion string) error {
	res, err := current.NewResult(raw)
	if err != nil {
		return types.NewError(types.ErrInternal, "kubefay agent returned an invalid CNI result", err.Error())
	}
	out, err := res.GetAsVersion(cniVersion)
	if err != nil {
		return types.NewError(types.ErrIncompatibleCNIVersion,
			fmt.Sprintf("cannot express the result in CNI version %q", cniVersion), err.Error())
	}
	w := p.Stdout
	if w == nil {
		w = os.Stdout
	}
	if err := out.PrintTo(w); err != nil {
		return types.NewError(types.ErrIOFailure, "cannot write the CNI result", err.Error())
	}
	return nil
}
