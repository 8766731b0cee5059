package ovsdb

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// ParseEndpoint splits an OVSDB remote ("unix:<path>" or
// "tcp:<host>:<port>") into a net.Dial network and address.
func ParseEndpoint(endpoint string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(endpoint, "unix:") && len(endpoint) > len("unix:"):
		return "unix", strings.TrimPrefix(endpoint, "unix:"), nil
	case strings.HasPrefix(endpoint, "tcp:"):
		addr := strings.TrimPrefix(endpoint, "tcp:")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", "", fmt.Errorf("ovsdb: endpoint %q: %w", endpoint, err)
		}
		return "tcp", addr, nil
	}
	return "", "", fmt.Errorf("ovsdb: endpoint %q: want unix:<path> or tcp:<host>:<port>", endpoint)
}

// dialEndpoint opens a stream connection to endpoint.
func dialEndpoint(ctx context.Context, endpoint string) (net.Conn, error) {
	network, addr, err := ParseEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
