package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/kubefay/kubefay/pkg/httpserve"
)

// Backend answers the API's requests; the agent implements it.
type Backend interface {
	Status(ctx context.Context) (*Status, error)
	Flows(ctx context.Context, req FlowsRequest) (*FlowsResponse, error)
	Trace(ctx context.Context, req TraceRequest) (*TraceResponse, error)
}

// Handler serves b's API over HTTP.
func Handler(b Backend) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		reply[*Status](w)(b.Status(r.Context()))
	})
	mux.HandleFunc("POST "+PathFlows, func(w http.ResponseWriter, r *http.Request) {
		var req FlowsRequest
		if decode(w, r, &req) {
			reply[*FlowsResponse](w)(b.Flows(r.Context(), req))
		}
	})
	mux.HandleFunc("POST "+PathTrace, func(w http.ResponseWriter, r *http.Request) {
		var req TraceRequest
		if decode(w, r, &req) {
			reply[*TraceResponse](w)(b.Trace(r.Context(), req))
		}
	})
	return mux
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// reply writes a backend answer: the value as JSON, or the error as text.
func reply[T any](w http.ResponseWriter) func(T, error) {
	return func(v T, err error) {
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

// Serve listens on the unix socket path (mode 0600: root only, replacing a
// stale socket) and serves b until ctx ends.
func Serve(ctx context.Context, path string, b Backend) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return err
	}
	httpserve.Serve(ctx, ln, Handler(b), "agent control socket")
	return nil
}
