package api

import (
	"encoding/json"
	"testing"
)

// FuzzParseNetConf: whatever a runtime pipes to the CNI binary, decoding
// never panics and either yields a named configuration or a CNI error of
// the decoding (6) or configuration (7) kind.
func FuzzParseNetConf(f *testing.F) {
	f.Add([]byte(`{"cniVersion":"1.1.0","name":"kubefay","type":"kubefay-cni","agentSocket":"/var/run/kubefay/cni.sock","timeouts":{"add":"30s"}}`))
	f.Add([]byte(`{"name":"n","timeouts":{"add":-1}}`))
	f.Add([]byte(`{"name":`))
	f.Fuzz(func(t *testing.T, stdin []byte) {
		n, err := ParseNetConf(stdin)
		switch {
		case err != nil && n != nil:
			t.Fatalf("both a configuration and an error: %v", err)
		case err != nil && err.Code != 6 && err.Code != 7:
			t.Fatalf("error code %d (%v), want 6 or 7", err.Code, err)
		case err == nil && (n == nil || n.Name == ""):
			t.Fatalf("accepted a configuration without a name: %s", stdin)
		}
	})
}

// FuzzParsePodArgs: CNI_ARGS never panics the parser; an accepted value
// round-trips its Kubernetes keys through the request JSON.
func FuzzParsePodArgs(f *testing.F) {
	f.Add("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_INFRA_CONTAINER_ID=c;K8S_POD_UID=u")
	f.Add(";;=x;")
	f.Fuzz(func(t *testing.T, args string) {
		p, err := ParsePodArgs(args)
		if err != nil {
			return
		}
		b, err := json.Marshal(Request{Command: CommandAdd, Pod: p})
		if err != nil {
			t.Fatal(err)
		}
		var back Request
		if err := json.Unmarshal(b, &back); err != nil || back.Pod != p {
			t.Fatalf("pod args %+v do not round-trip: %+v %v", p, back.Pod, err)
		}
	})
}
