package scale

import (
	"io"
	"net/http"
	"path"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// traffic counts the requests and bytes through a rest.Config's transport:
// writes (POST, PUT, PATCH, DELETE) and reads, bytes sent and received
// (watch streams included, counted as they are read).
type traffic struct {
	writes, reads, failedWrites atomic.Int64
	sent, received              atomic.Int64 // bodies only
	byResource                  sync.Map     // last path element ("pods") -> *atomic.Int64 received
}

// receivedFor returns the bytes received for one resource's requests.
func (t *traffic) receivedFor(resource string) int64 {
	if v, ok := t.byResource.Load(resource); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
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
		v, _ := c.t.byResource.LoadOrStore(path.Base(req.URL.Path), new(atomic.Int64))
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.t.received, res: v.(*atomic.Int64)}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n, res *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	b.res.Add(int64(n))
	return n, err
}
