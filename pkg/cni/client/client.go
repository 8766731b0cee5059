// Package client is the kubefay-cni binary's side of the CNI wire protocol:
// it sends one api.Request to the node agent over its unix socket and
// classifies every failure as the CNI error the container runtime should
// see (see Do).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/kubefay/kubefay/pkg/cni/api"
)

// maxResponseBytes bounds what the binary reads from the agent.
const maxResponseBytes = 4 << 20

// Client talks to the agent listening on one unix socket.
type Client struct {
	socket string
	httpc  *http.Client
}

// New returns a client of the agent listening on socketPath.
func New(socketPath string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", socketPath)
			if err != nil {
				return nil, &dialError{err: err}
			}
			return c, nil
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	return &Client{socket: socketPath, httpc: &http.Client{Transport: tr}}
}

// Socket returns the path of the agent's socket.
func (c *Client) Socket() string { return c.socket }

// dialError marks a failure to connect, as opposed to a failure after the
// request was sent.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// Do sends req and waits at most timeout for the answer. On success it
// returns the agent's result (CNI 1.1.0 JSON; empty for commands other than
// ADD). Every failure is a *types.Error:
//   - the socket is missing, refuses connections, or the connection breaks
//     (agent not running, restarting or crashed): code 11, try again later;
//   - no answer within timeout: code 11;
//   - the agent rejected the request: its own code, msg and details;
//   - an answer that is not the protocol: code 999.
func (c *Client) Do(ctx context.Context, req *api.Request, timeout time.Duration) (json.RawMessage, *types.Error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, types.NewError(types.ErrInternal, "cannot encode request for the kubefay agent", err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://kubefay-agent"+api.Path, bytes.NewReader(body))
	if err != nil {
		return nil, types.NewError(types.ErrInternal, "cannot build request for the kubefay agent", err.Error())
	}
	hreq.Header.Set("Content-Type", api.ContentType)
	resp, err := c.httpc.Do(hreq)
	if err != nil {
		return nil, c.transportError(ctx, req.Command, timeout, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, req.Command, timeout, err)
	}
	if len(data) > maxResponseBytes {
		return nil, types.NewError(types.ErrInternal, fmt.Sprintf("kubefay agent answered %s with more than %d bytes", req.Command, maxResponseBytes), "")
	}
	var out api.Response
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, types.NewError(types.ErrInternal,
			fmt.Sprintf("malformed answer from kubefay agent at %s (HTTP %d)", c.socket, resp.StatusCode), truncate(string(data), 200))
	}
	if out.Error != nil {
		return nil, out.Error
	}
	if resp.StatusCode != http.StatusOK {
		return nil, types.NewError(types.ErrInternal,
			fmt.Sprintf("kubefay agent at %s answered HTTP %d without a CNI error", c.socket, resp.StatusCode), truncate(string(data), 200))
	}
	if req.Command == api.CommandAdd && len(out.Result) == 0 {
		return nil, types.NewError(types.ErrInternal, "kubefay agent answered ADD without a result", "")
	}
	return out.Result, nil
}

// transportError classifies a failure to exchange the request.
func (c *Client) transportError(ctx context.Context, cmd api.Command, timeout time.Duration, err error) *types.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return types.NewError(types.ErrTryAgainLater,
			fmt.Sprintf("kubefay agent did not answer CNI %s within %s (socket %s)", cmd, timeout, c.socket), err.Error())
	}
	var de *dialError
	if errors.As(err, &de) {
		switch {
		case errors.Is(err, syscall.ENOENT):
			return types.NewError(types.ErrTryAgainLater,
				fmt.Sprintf("kubefay agent socket %s does not exist: is kubefay-agent running on this node?", c.socket), err.Error())
		case errors.Is(err, syscall.ECONNREFUSED):
			return types.NewError(types.ErrTryAgainLater,
				fmt.Sprintf("nothing listens on kubefay agent socket %s: is kubefay-agent running on this node?", c.socket), err.Error())
		default:
			return types.NewError(types.ErrTryAgainLater,
				fmt.Sprintf("cannot connect to kubefay agent socket %s", c.socket), err.Error())
		}
	}
	return types.NewError(types.ErrTryAgainLater,
		fmt.Sprintf("connection to kubefay agent at %s failed during CNI %s (agent restarting?)", c.socket, cmd), err.Error())
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
