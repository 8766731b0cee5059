package controller

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Config is the controller's configuration file (controller.yaml in the
// kubefay-config ConfigMap).
type Config struct {
	// DefaultSubnet is created at start if it does not exist.
	DefaultSubnet SubnetConfig `json:"defaultSubnet"`
	// MetricsAddress serves /metrics ("0" disables); default "127.0.0.1:10352"
	// (the controller runs in the host network: not on the node's addresses).
	MetricsAddress string `json:"metricsAddress,omitempty"`
	// SecureMetricsAddress, when set (e.g. ":10350"), serves /metrics over
	// HTTPS to in-cluster scrapers, each request authenticated by a
	// TokenReview and authorized by a SubjectAccessReview (get /metrics);
	// MetricsAddress then stays plain, for local debugging.
	SecureMetricsAddress string `json:"secureMetricsAddress,omitempty"`
	// HealthAddress serves /healthz and /readyz; default "127.0.0.1:10353".
	HealthAddress string `json:"healthAddress,omitempty"`
	// LeaderElection of the active replica.
	LeaderElection LeaderElectionConfig `json:"leaderElection,omitempty"`
	// GC tunes the garbage collector of allocations and blocks.
	GC GCConfig `json:"gc,omitempty"`
	// StatusInterval is the least time between two status writes of one
	// SubNet (default 2s): under a storm of pod creations the status lags
	// by at most this much instead of costing one write per pod.
	StatusInterval metav1.Duration `json:"statusInterval,omitempty"`
	// ClientQPS and ClientBurst bound the controller's API requests (default
	// 50 and 100; client-go's own default, 5 and 10, made SubNet status lag
	// by tens of seconds after a burst of pods in many SubNets).
	ClientQPS   float32 `json:"clientQPS,omitempty"`
	ClientBurst int     `json:"clientBurst,omitempty"`
}

// SubnetConfig describes the default SubNet.
type SubnetConfig struct {
	Name       string   `json:"name"`
	CIDR       string   `json:"cidr"`
	Gateway    string   `json:"gateway,omitempty"`
	ExcludeIPs []string `json:"excludeIPs,omitempty"`
	BlockSize  int32    `json:"blockSize,omitempty"`
	// NATOutgoing: spec.natOutgoing (nil: the CRD's default, true).
	NATOutgoing *bool `json:"natOutgoing,omitempty"`
}

// LeaderElectionConfig configures the lease of the active replica.
type LeaderElectionConfig struct {
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
	// Namespace of the Lease; default $POD_NAMESPACE, else kube-system.
	Namespace string `json:"namespace,omitempty"`
	// Name of the Lease; default kubefay-controller.
	Name string `json:"name,omitempty"`
}

// GCConfig tunes the garbage collector.
type GCConfig struct {
	// Interval between two passes (default 15s: an orphaned address is
	// freed within Grace + Interval, under the 60 s users are promised).
	Interval metav1.Duration `json:"interval,omitempty"`
	// Grace: allocations younger than this are never collected, so that a
	// pod being added (allocated before the pod shows in the informer
	// cache) is never raced (default 30s).
	Grace metav1.Duration `json:"grace,omitempty"`
}

// LoadConfig reads a configuration file and applies the defaults.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Default fills in the defaults of unset fields.
func (c *Config) Default() {
	if c.MetricsAddress == "" {
		c.MetricsAddress = "127.0.0.1:10352"
	}
	if c.HealthAddress == "" {
		c.HealthAddress = "127.0.0.1:10353"
	}
	if c.LeaderElection.Enabled == nil {
		t := true
		c.LeaderElection.Enabled = &t
	}
	if c.LeaderElection.Namespace == "" {
		c.LeaderElection.Namespace = os.Getenv("POD_NAMESPACE")
	}
	if c.LeaderElection.Namespace == "" {
		c.LeaderElection.Namespace = "kube-system"
	}
	if c.LeaderElection.Name == "" {
		c.LeaderElection.Name = "kubefay-controller"
	}
	if c.GC.Interval.Duration == 0 {
		c.GC.Interval.Duration = 15 * time.Second
	}
	if c.GC.Grace.Duration == 0 {
		c.GC.Grace.Duration = 30 * time.Second
	}
	if c.StatusInterval.Duration == 0 {
		c.StatusInterval.Duration = 2 * time.Second
	}
	if c.ClientQPS == 0 {
		c.ClientQPS = 50
	}
	if c.ClientBurst == 0 {
		c.ClientBurst = 100
	}
}

// Validate checks what the API server would only reject later.
func (c *Config) Validate() error {
	if c.DefaultSubnet.Name == "" {
		return fmt.Errorf("defaultSubnet.name is required")
	}
	if _, err := netip.ParsePrefix(c.DefaultSubnet.CIDR); err != nil {
		return fmt.Errorf("defaultSubnet.cidr: %w", err)
	}
	if c.GC.Interval.Duration < 0 || c.GC.Grace.Duration < 0 {
		return fmt.Errorf("gc.interval and gc.grace must not be negative")
	}
	if c.ClientQPS < 0 || c.ClientBurst < 0 {
		return fmt.Errorf("clientQPS and clientBurst must not be negative")
	}
	return nil
}
