package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type fakeBackend struct{ got TraceRequest }

func (f *fakeBackend) Status(context.Context) (*Status, error) {
	return &Status{Node: "n1", OVSConnected: true, Pods: 2}, nil
}

func (f *fakeBackend) Flows(_ context.Context, req FlowsRequest) (*FlowsResponse, error) {
	if req.Table == "bad" {
		return nil, errors.New("no table bad")
	}
	return &FlowsResponse{Node: "n1", Flows: []Flow{{Table: 60, Owner: "pod " + req.Pod}}}, nil
}

func (f *fakeBackend) Trace(_ context.Context, req TraceRequest) (*TraceResponse, error) {
	f.got = req
	return &TraceResponse{Node: "n1", Summary: "to the host via gw0"}, nil
}

func TestServeCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sock := filepath.Join(t.TempDir(), SocketName)
	if err := os.WriteFile(sock, nil, 0o600); err != nil { // a stale file is replaced
		t.Fatal(err)
	}
	fb := &fakeBackend{}
	if err := Serve(ctx, sock, fb); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v %v", fi, err)
	}
	out, err := Call(ctx, sock, PathStatus, nil)
	var st Status
	if err != nil || json.Unmarshal(out, &st) != nil || st.Node != "n1" || st.Pods != 2 {
		t.Fatalf("status %s %v", out, err)
	}
	out, err = Call(ctx, sock, PathTrace, []byte(`{"fromPod":"ns/a","dstIP":"10.0.0.1","proto":"udp","dstPort":53}`))
	var tr TraceResponse
	if err != nil || json.Unmarshal(out, &tr) != nil || tr.Summary != "to the host via gw0" ||
		fb.got.FromPod != "ns/a" || fb.got.DstIP.String() != "10.0.0.1" || fb.got.DstPort != 53 {
		t.Fatalf("trace %s %v (request %+v)", out, err, fb.got)
	}
	if _, err := Call(ctx, sock, PathFlows, []byte(`{"table":"bad"}`)); err == nil || !strings.Contains(err.Error(), "no table bad") {
		t.Fatalf("backend error: %v", err)
	}
	if _, err := Call(ctx, sock, PathTrace, []byte(`{`)); err == nil || !strings.Contains(err.Error(), "bad request") {
		t.Fatalf("bad JSON: %v", err)
	}
}
