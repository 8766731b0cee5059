package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
)

func TestParsePodArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    PodArgs
		wantErr bool
	}{
		{name: "empty", args: ""},
		{
			name: "containerd",
			args: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=0f1e-22",
			want: PodArgs{Namespace: "default", Name: "web-0", UID: "0f1e-22", InfraContainerID: "abc123"},
		},
		{name: "trailing separator", args: "K8S_POD_NAME=a;", want: PodArgs{Name: "a"}},
		{name: "value with equals", args: "K8S_POD_NAME=a=b", want: PodArgs{Name: "a=b"}},
		{name: "empty value", args: "K8S_POD_NAME=", want: PodArgs{}},
		{name: "no equals", args: "K8S_POD_NAME", wantErr: true},
		{name: "empty key", args: "=x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePodArgs(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPodArgsString(t *testing.T) {
	if got := (PodArgs{}).String(); got != "" {
		t.Errorf("empty: %q", got)
	}
	if got := (PodArgs{Namespace: "ns", Name: "p"}).String(); got != "ns/p" {
		t.Errorf("got %q", got)
	}
}

func TestParseNetConf(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantCode uint // 0: success
		socket   string
		add      time.Duration
		del      time.Duration
	}{
		{name: "minimal", in: `{"cniVersion":"1.1.0","name":"kubefay","type":"kubefay-cni"}`,
			socket: DefaultSocketPath, add: DefaultAddTimeout, del: DefaultDelTimeout},
		{name: "overrides", in: `{"cniVersion":"1.0.0","name":"n","agentSocket":"/run/x.sock","timeouts":{"add":"2s","del":1.5}}`,
			socket: "/run/x.sock", add: 2 * time.Second, del: 1500 * time.Millisecond},
		{name: "with prevResult and runtimeConfig", in: `{"cniVersion":"1.1.0","name":"n","prevResult":{"cniVersion":"1.1.0"},"runtimeConfig":{"portMappings":[]}}`,
			socket: DefaultSocketPath, add: DefaultAddTimeout, del: DefaultDelTimeout},
		{name: "not json", in: `{"name":`, wantCode: types.ErrDecodingFailure},
		{name: "empty", in: ``, wantCode: types.ErrDecodingFailure},
		{name: "no name", in: `{"cniVersion":"1.1.0"}`, wantCode: types.ErrInvalidNetworkConfig},
		{name: "bad timeout string", in: `{"name":"n","timeouts":{"add":"soon"}}`, wantCode: types.ErrInvalidNetworkConfig},
		{name: "negative timeout", in: `{"name":"n","timeouts":{"add":"-1s"}}`, wantCode: types.ErrInvalidNetworkConfig},
		{name: "socket not a string", in: `{"name":"n","agentSocket":7}`, wantCode: types.ErrInvalidNetworkConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, e := ParseNetConf([]byte(tt.in))
			if tt.wantCode != 0 {
				if e == nil || e.Code != tt.wantCode {
					t.Fatalf("got %v, want code %d", e, tt.wantCode)
				}
				return
			}
			if e != nil {
				t.Fatalf("unexpected error %v", e)
			}
			if n.SocketPath() != tt.socket {
				t.Errorf("socket %q, want %q", n.SocketPath(), tt.socket)
			}
			if got := n.Timeouts.For(CommandAdd); got != tt.add {
				t.Errorf("add timeout %v, want %v", got, tt.add)
			}
			if got := n.Timeouts.For(CommandDel); got != tt.del {
				t.Errorf("del timeout %v, want %v", got, tt.del)
			}
		})
	}
}

func TestTimeoutDefaults(t *testing.T) {
	var to Timeouts
	for cmd, want := range map[Command]time.Duration{
		CommandAdd: DefaultAddTimeout, CommandDel: DefaultDelTimeout, CommandCheck: DefaultCheckTimeout,
		CommandStatus: DefaultStatusTimeout, CommandGC: DefaultGCTimeout,
	} {
		if got := to.For(cmd); got != want {
			t.Errorf("%s: %v, want %v", cmd, got, want)
		}
	}
}

func TestDurationJSONRoundTrip(t *testing.T) {
	in := Timeouts{Add: Duration(1500 * time.Millisecond)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Timeouts
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if out != in {
		t.Errorf("round trip %s: got %+v", b, out)
	}
}

func TestCommandValid(t *testing.T) {
	for _, c := range []Command{CommandAdd, CommandDel, CommandCheck, CommandStatus, CommandGC} {
		if !c.Valid() {
			t.Errorf("%s not valid", c)
		}
	}
	for _, c := range []Command{"", "VERSION", "add"} {
		if c.Valid() {
			t.Errorf("%q valid", c)
		}
	}
}

type coded struct{ code uint }

func (c coded) Error() string { return "coded" }
func (c coded) CNIError() *types.Error {
	return types.NewError(c.code, "from CNIError", "d")
}

func TestAsCNIError(t *testing.T) {
	typed := types.NewError(types.ErrUnknownContainer, "who?", "x")
	tests := []struct {
		name     string
		err      error
		wantCode uint
		wantMsg  string
	}{
		{name: "typed", err: typed, wantCode: types.ErrUnknownContainer, wantMsg: "who?"},
		{name: "wrapped typed", err: fmt.Errorf("ctx: %w", typed), wantCode: types.ErrUnknownContainer, wantMsg: "who?"},
		{name: "CNIErrorer", err: fmt.Errorf("w: %w", coded{code: 51}), wantCode: 51, wantMsg: "from CNIError"},
		{name: "deadline", err: fmt.Errorf("ipam: %w", context.DeadlineExceeded), wantCode: types.ErrTryAgainLater},
		{name: "cancelled", err: context.Canceled, wantCode: types.ErrTryAgainLater},
		{name: "plain", err: errors.New("boom"), wantCode: types.ErrInternal, wantMsg: "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AsCNIError(tt.err)
			if got.Code != tt.wantCode {
				t.Errorf("code %d, want %d (%v)", got.Code, tt.wantCode, got)
			}
			if tt.wantMsg != "" && got.Msg != tt.wantMsg {
				t.Errorf("msg %q, want %q", got.Msg, tt.wantMsg)
			}
		})
	}
	if AsCNIError(nil) != nil {
		t.Error("nil error must give nil")
	}
}
