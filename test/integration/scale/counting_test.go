package scale

import (
	"io"
	"net/http"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// traffic counts the requests and bytes through a rest.Config's transport:
// writes (POST, PUT, PATCH, DELETE) and reads, bytes sent and received
// (watch streams included, counted as they are read).
type traffic struct {
	writes, reads, failedWrites atomic.Int64
	sent, received              atomic.Int64 // bodies only
}

// wrap returns a copy of cfg whose requests t counts.
func (t *traffic) wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingRT{rt: rt, t: t} })
	return cfg
}

type countingRT struct {
	rt http.RoundTripper
	t  *traffic
}

func (c *countingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	write := req.Method != http.MethodGet && req.Method != http.MethodHead
	if write {
		c.t.writes.Add(1)
	} else {
		c.t.reads.Add(1)
	}
	if req.ContentLength > 0 {
		c.t.sent.Add(req.ContentLength)
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil || resp.StatusCode >= 400 {
		if write {
			c.t.failedWrites.Add(1)
		}
	}
	if err == nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.t.received}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
