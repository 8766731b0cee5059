package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kubefay/kubefay/pkg/cni/api"
)

// FuzzServeCNI: any body posted to the agent's CNI endpoint gets a JSON
// response, never a panic: a result only with HTTP 200, a CNI error with a
// code otherwise.
func FuzzServeCNI(f *testing.F) {
	f.Add([]byte(`{"command":"ADD","containerID":"c1","netns":"/run/netns/x","ifName":"eth0","pod":{"namespace":"ns","name":"p"},"netConf":{"cniVersion":"1.1.0","name":"kubefay"}}`))
	f.Add([]byte(`{"command":"GC","netConf":{"cni.dev/valid-attachments":[{"containerID":"c","ifname":"eth0"}]}}`))
	f.Add([]byte(`{"command":"GC","netConf":{"cni.dev/valid-attachments":7}}`))
	f.Add([]byte(`{"command":"VERSION"}`))
	f.Add([]byte(`{"command":`))
	s := New(&fakeHandler{}, Options{SocketPath: "/nonexistent/cni.sock"})
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		s.serveCNI(w, httptest.NewRequest(http.MethodPost, api.Path, bytes.NewReader(body)))
		var resp api.Response
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("HTTP %d, body not JSON: %v: %q", w.Code, err, w.Body.String())
		}
		switch {
		case w.Code == http.StatusOK && resp.Error != nil:
			t.Fatalf("HTTP 200 with an error: %+v", resp.Error)
		case w.Code != http.StatusOK && (resp.Error == nil || resp.Error.Code == 0):
			t.Fatalf("HTTP %d without a CNI error code: %s", w.Code, w.Body.String())
		}
	})
}
