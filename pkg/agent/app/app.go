// Package app is the kubefay-agent command line: `run` (the agent) and
// `install-cni` (the DaemonSet's init step).
package app

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/kubefay/kubefay/pkg/agent"
	"github.com/kubefay/kubefay/pkg/agent/cniinstall"
	"github.com/kubefay/kubefay/pkg/agent/config"
	"github.com/kubefay/kubefay/pkg/version"
)

// NewCommand returns the kubefay-agent root command.
func NewCommand() *cobra.Command {
	var cfgPath string
	root := &cobra.Command{
		Use:           "kubefay-agent",
		Short:         "kubefay node agent: OVS bridge, pod networking, flows",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
	}
	root.PersistentFlags().StringVar(&cfgPath, "config", "", "agent configuration file (agent.yaml)")
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	root.PersistentFlags().AddGoFlagSet(klogFlags)

	root.AddCommand(&cobra.Command{
		Use:   "run",
		Short: "run the agent (DaemonSet main container)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			node := os.Getenv("NODE_NAME")
			if node == "" {
				return fmt.Errorf("NODE_NAME is not set (downward API spec.nodeName)")
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			klog.InfoS("starting kubefay-agent", "version", version.Version, "node", node,
				"datapath", cfg.DatapathType, "tunnel", cfg.TunnelType)
			return agent.Run(ctx, node, cfg)
		},
	})

	var srcBin string
	install := &cobra.Command{
		Use:   "install-cni",
		Short: "install the CNI binaries and conflist on the node (DaemonSet init step)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return err
			}
			if err := cniinstall.Install(srcBin, cfg.CNIBinDir, cfg.CNIConfDir, cfg.CNISocket); err != nil {
				return err
			}
			klog.InfoS("installed CNI", "plugins", cniinstall.Plugins, "binDir", cfg.CNIBinDir,
				"conf", cfg.CNIConfDir+"/"+cniinstall.ConfListName)
			return nil
		},
	}
	install.Flags().StringVar(&srcBin, "from", "/opt/cni/bin", "directory of the image holding the plugins")
	root.AddCommand(install, newCtlCommand())
	return root
}
