package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Options carries what every command needs: where to print and how to
// reach the API. The zero value prints to the process's stdout/stderr and
// builds its client from the kubeconfig flags.
type Options struct {
	// Out receives the commands' output; nil means os.Stdout.
	Out io.Writer
	// ErrOut receives warnings; nil means os.Stderr.
	ErrOut io.Writer
	// NewClient returns the client commands read from; nil means a client
	// built from --kubeconfig, --context and KUBECONFIG.
	NewClient func() (client.Reader, error)
	// Now is the clock ages are computed against; nil means time.Now.
	Now func() time.Time
	// CallAgent reaches a node's agent; nil means exec'ing `kubefay-agent
	// ctl` in its pod through the API server (pods/exec).
	CallAgent AgentCaller

	kube           kubeFlags
	agentNamespace string
}

func (o *Options) out() io.Writer {
	if o.Out == nil {
		return os.Stdout
	}
	return o.Out
}

func (o *Options) errOut() io.Writer {
	if o.ErrOut == nil {
		return os.Stderr
	}
	return o.ErrOut
}

func (o *Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Options) client() (client.Reader, error) {
	if o.NewClient != nil {
		return o.NewClient()
	}
	return o.kube.client()
}

// warnf prints a non-fatal problem on ErrOut.
func (o *Options) warnf(format string, a ...any) {
	fmt.Fprintf(o.errOut(), "warning: "+format+"\n", a...)
}

// NewCommand returns the kubectl-kubefay root command and its subcommands.
func NewCommand(o *Options) *cobra.Command {
	if o == nil {
		o = &Options{}
	}
	root := &cobra.Command{
		Use:   "kubectl-kubefay",
		Short: "Inspect kubefay subnets, IP addresses, flows and packet paths",
		Long: "kubectl-kubefay shows kubefay's subnets, the address blocks nodes claimed\n" +
			"from them and who holds each address (usage is computed from the IPAMBlocks),\n" +
			"traces packets through a node's OpenFlow pipeline, shows flows with their owners\n" +
			"and the state of every node's agent.",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl kubefay"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(o.out())
	root.SetErr(o.errOut())
	o.kube.addFlags(root.PersistentFlags())
	root.PersistentFlags().StringVar(&o.agentNamespace, "agent-namespace", "kube-system", "namespace of the kubefay agent pods")

	subnet := &cobra.Command{
		Use:     "subnet",
		Aliases: []string{"subnets", "sn"},
		Short:   "List and show subnets",
	}
	subnet.AddCommand(newSubnetListCommand(o), newSubnetShowCommand(o))
	root.AddCommand(subnet, newIPCommand(o), newTraceCommand(o), newFlowsCommand(o), newAgentCommand(o))
	return root
}
