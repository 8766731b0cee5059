package metricsauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/klog/v2"
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

// Serve serves h on ln until ctx ends; it returns at once.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "metrics server stopped", "addr", ln.Addr().String())
		}
	}()
}
