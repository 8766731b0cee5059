// Package config holds the kubefay agent's configuration file (the agent.yaml
// key of the kubefay-config ConfigMap): its fields, defaults and validation.
package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"sigs.k8s.io/yaml"
)

// Datapath types of the OVS bridge.
const (
	// DatapathSystem is the kernel datapath (openvswitch module): production.
	DatapathSystem = "system"
	// DatapathNetdev is the userspace datapath: labs, CI, DPDK hosts.
	DatapathNetdev = "netdev"
)

// Tunnel types of the overlay between nodes.
const (
	TunnelVXLAN  = "vxlan"
	TunnelGeneve = "geneve"
)

// Agent is the agent's configuration.
type Agent struct {
	// DatapathType is "system" (default) or "netdev".
	DatapathType string `json:"datapathType"`
	// TunnelType is "vxlan" (default) or "geneve".
	TunnelType string `json:"tunnelType"`
	// MTU of pod interfaces; 0 means the node uplink's MTU minus nodenet.TunnelOverhead.
	MTU int `json:"mtu"`
	// Bridge is the OVS integration bridge (default br-int).
	Bridge string `json:"bridge"`
	// GatewayPort is the internal port holding the subnet gateways (default gw0).
	GatewayPort string `json:"gatewayPort"`
	// TunnelPort is the flow-based tunnel port (default tun0).
	TunnelPort string `json:"tunnelPort"`
	// OVSRunDir holds db.sock and <bridge>.mgmt (default /var/run/openvswitch).
	OVSRunDir string `json:"ovsRunDir"`
	// CNISocket is where the agent serves the CNI binary (default /var/run/kubefay/cni.sock).
	CNISocket string `json:"cniSocket"`
	// DefaultSubnet is the SubNet of namespaces without a subnet (default defaultnet).
	DefaultSubnet string `json:"defaultSubnet"`
	// ServiceCIDRs are the cluster's service ranges, never masqueraded to.
	ServiceCIDRs []string `json:"serviceCIDRs"`
	// MetricsAddr serves /metrics, /healthz and /readyz (default 127.0.0.1:10351).
	MetricsAddr string `json:"metricsAddr"`
	// SecureMetricsAddr, when set (e.g. ":10349"), serves /metrics over
	// HTTPS to in-cluster scrapers, each request authenticated by a
	// TokenReview and authorized by a SubjectAccessReview (get /metrics).
	SecureMetricsAddr string `json:"secureMetricsAddr,omitempty"`
	// CNIConfDir and CNIBinDir are the host's CNI directories as seen by the
	// agent container (default /host/etc/cni/net.d and /host/opt/cni/bin).
	CNIConfDir string `json:"cniConfDir"`
	CNIBinDir  string `json:"cniBinDir"`
}

// Default returns the configuration with every default filled in.
func Default() Agent {
	var a Agent
	a.applyDefaults()
	return a
}

func (a *Agent) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&a.DatapathType, DatapathSystem)
	def(&a.TunnelType, TunnelVXLAN)
	def(&a.Bridge, "br-int")
	def(&a.GatewayPort, "gw0")
	def(&a.TunnelPort, "tun0")
	def(&a.OVSRunDir, "/var/run/openvswitch")
	def(&a.CNISocket, "/var/run/kubefay/cni.sock")
	def(&a.DefaultSubnet, "defaultnet")
	def(&a.MetricsAddr, "127.0.0.1:10351")
	def(&a.CNIConfDir, "/host/etc/cni/net.d")
	def(&a.CNIBinDir, "/host/opt/cni/bin")
	if a.ServiceCIDRs == nil {
		a.ServiceCIDRs = []string{"10.96.0.0/12"}
	}
}

// Validate reports the first invalid field with a message naming it.
func (a *Agent) Validate() error {
	switch a.DatapathType {
	case DatapathSystem, DatapathNetdev:
	default:
		return fmt.Errorf("datapathType %q: must be %q or %q", a.DatapathType, DatapathSystem, DatapathNetdev)
	}
	switch a.TunnelType {
	case TunnelVXLAN, TunnelGeneve:
	default:
		return fmt.Errorf("tunnelType %q: must be %q or %q", a.TunnelType, TunnelVXLAN, TunnelGeneve)
	}
	if a.MTU != 0 && (a.MTU < 576 || a.MTU > 9216) {
		return fmt.Errorf("mtu %d: must be 0 (auto) or between 576 and 9216", a.MTU)
	}
	if a.SecureMetricsAddr != "" {
		if _, _, err := net.SplitHostPort(a.SecureMetricsAddr); err != nil {
			return fmt.Errorf("secureMetricsAddr %q: %v", a.SecureMetricsAddr, err)
		}
	}
	for _, c := range a.ServiceCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return fmt.Errorf("serviceCIDRs: %q is not a CIDR", c)
		}
	}
	return nil
}

// ServiceNets returns ServiceCIDRs parsed and masked (Validate first).
func (a *Agent) ServiceNets() []netip.Prefix {
	var out []netip.Prefix
	for _, c := range a.ServiceCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// Parse decodes, defaults and validates a configuration document.
func Parse(data []byte) (Agent, error) {
	var a Agent
	if err := yaml.UnmarshalStrict(data, &a); err != nil {
		return a, fmt.Errorf("agent config: %w", err)
	}
	a.applyDefaults()
	return a, a.Validate()
}

// Load reads the configuration file at path; an empty path gives the defaults.
func Load(path string) (Agent, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Agent{}, err
	}
	return Parse(data)
}
