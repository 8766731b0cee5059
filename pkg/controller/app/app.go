// Package app is the kubefay-controller command line.
package app

import (
	"context"
	"flag"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/kubefay/kubefay/pkg/controller"
	"github.com/kubefay/kubefay/pkg/version"
)

// NewCommand returns the kubefay-controller command.
func NewCommand() *cobra.Command {
	var (
		cfgPath, kubeconfig, metricsAddr, healthAddr string
		leaderElect                                  bool
	)
	cmd := &cobra.Command{
		Use:           "kubefay-controller",
		Short:         "kubefay cluster controller: default SubNet, SubNet status, IPAM garbage collection",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := controller.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			flags := cmd.Flags()
			if flags.Changed("metrics-bind-address") {
				cfg.MetricsAddress = metricsAddr
			}
			if flags.Changed("health-probe-bind-address") {
				cfg.HealthAddress = healthAddr
			}
			if flags.Changed("leader-elect") {
				cfg.LeaderElection.Enabled = &leaderElect
			}
			restCfg, err := restConfig(kubeconfig)
			if err != nil {
				return err
			}
			ctrl.SetLogger(klog.NewKlogr())
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			klog.InfoS("starting kubefay-controller", "version", version.Version,
				"defaultSubnet", cfg.DefaultSubnet.Name, "cidr", cfg.DefaultSubnet.CIDR,
				"leaderElection", *cfg.LeaderElection.Enabled, "metrics", cfg.MetricsAddress, "health", cfg.HealthAddress)
			return controller.Run(ctx, restCfg, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "/etc/kubefay/controller.yaml", "controller configuration file")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file; empty means in-cluster configuration")
	f.StringVar(&metricsAddr, "metrics-bind-address", "", "address of /metrics, overrides the config file (\"0\" disables)")
	f.StringVar(&healthAddr, "health-probe-bind-address", "", "address of /healthz and /readyz, overrides the config file")
	f.BoolVar(&leaderElect, "leader-elect", true, "elect one active replica, overrides the config file")
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	f.AddGoFlagSet(klogFlags)
	return cmd
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return rest.InClusterConfig()
	}
	return clientcmd.BuildConfigFromFlags("", kubeconfig)
}
