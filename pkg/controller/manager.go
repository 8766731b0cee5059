package controller

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/kubefay/kubefay/pkg/apis/kubefay/v1alpha1"
	"github.com/kubefay/kubefay/pkg/ipam"
)

// NewScheme returns a scheme with the core types and kubefay's.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

// NewManager returns a controller-runtime manager with the controller's
// parts added: the default SubNet, the status reconciler, the SubNet
// deletion guard and the garbage collector.
func NewManager(restCfg *rest.Config, cfg *Config) (ctrl.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	if cfg.ClientQPS != 0 {
		restCfg = rest.CopyConfig(restCfg)
		restCfg.QPS, restCfg.Burst = cfg.ClientQPS, cfg.ClientBurst
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOptions(cfg),
		HealthProbeBindAddress:        cfg.HealthAddress,
		LeaderElection:                *cfg.LeaderElection.Enabled,
		LeaderElectionID:              cfg.LeaderElection.Name,
		LeaderElectionNamespace:       cfg.LeaderElection.Namespace,
		LeaderElectionReleaseOnCancel: true,
		// Controller names are checked process-wide; tests run several
		// managers in one process. A binary runs exactly one.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	if cfg.SecureMetricsAddress != "" && cfg.MetricsAddress != "0" {
		if err := mgr.Add(plainMetrics{addr: cfg.MetricsAddress}); err != nil {
			return nil, err
		}
	}
	if err := Setup(mgr, cfg); err != nil {
		return nil, err
	}
	return mgr, nil
}

// Setup adds the controller's parts to a manager.
func Setup(mgr ctrl.Manager, cfg *Config) error {
	if err := ipam.IndexBlocks(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return fmt.Errorf("indexing IPAM blocks by subnet: %w", err)
	}
	usage.use(mgr.GetClient())
	if err := mgr.Add(&DefaultSubnetEnsurer{Client: mgr.GetClient(), Subnet: cfg.DefaultSubnet}); err != nil {
		return err
	}
	if err := (&StatusReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), MinInterval: cfg.StatusInterval.Duration}).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := (&DeletionGuard{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}).SetupWithManager(mgr); err != nil {
		return err
	}
	alloc := ipam.New(mgr.GetClient(), ipam.Options{Cache: mgr.GetCache(), APIReader: mgr.GetAPIReader(), Metrics: ipamMetrics})
	if err := mgr.Add(&GarbageCollector{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), IPAM: alloc,
		Interval: cfg.GC.Interval.Duration, Grace: cfg.GC.Grace.Duration,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("ping", healthz.Ping)
}

// Run builds the manager and runs it until ctx ends.
func Run(ctx context.Context, restCfg *rest.Config, cfg *Config) error {
	mgr, err := NewManager(restCfg, cfg)
	if err != nil {
		return err
	}
	return mgr.Start(ctx)
}
