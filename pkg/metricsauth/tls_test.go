package metricsauth

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/kubefay/kubefay/pkg/httpserve"
)

func TestListenTLS(t *testing.T) {
	tests := []struct {
		name string
		ips  []net.IP
		want string // an IP the certificate must name
	}{
		{name: "loopback always", want: "127.0.0.1"},
		{name: "extra address", ips: []net.IP{net.ParseIP("198.51.100.7")}, want: "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := SelfSigned(tt.ips...)
			if err != nil {
				t.Fatal(err)
			}
			leaf := cfg.Certificates[0].Leaf
			found := false
			for _, ip := range leaf.IPAddresses {
				found = found || ip.String() == tt.want
			}
			if !found {
				t.Fatalf("certificate names %v, want %s among them", leaf.IPAddresses, tt.want)
			}
		})
	}

	ln, err := ListenTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	httpserve.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), "test server")
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get("https://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("not served over TLS 1.2+: %+v", resp.TLS)
	}
	// plain HTTP never reaches the handler
	if plain, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		plain.Body.Close()
		if plain.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP answered %d, want 400", plain.StatusCode)
		}
	}
}
