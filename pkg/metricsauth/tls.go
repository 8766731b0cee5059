package metricsauth

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"

	certutil "k8s.io/client-go/util/cert"
)

// SelfSigned returns a TLS configuration with a certificate signed by a
// CA made for it, both valid for the host's name, localhost and ips.
// Scrapers cannot verify it (they skip verification, as for the kubelet's
// and kube-controller-manager's own metrics): it only encrypts.
func SelfSigned(ips ...net.IP) (*tls.Config, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	ips = append([]net.IP{net.IPv4(127, 0, 0, 1)}, ips...)
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(host, ips, []string{"localhost"})
	if err != nil {
		return nil, fmt.Errorf("self-signed metrics certificate: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// ListenTLS listens on addr with a SelfSigned certificate.
func ListenTLS(addr string) (net.Listener, error) {
	cfg, err := SelfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return tls.NewListener(ln, cfg), nil
}
