package server

import (
	"context"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/kubefay/kubefay/pkg/cni/api"
)

// Handler is what the agent implements to serve CNI commands. Errors may be
// a *types.Error or implement api.CNIErrorer to choose the CNI code the
// runtime sees; any other error is reported as code 999 (internal). The
// server runs at most one request per container ID at a time.
type Handler interface {
	// Add wires the container's interface and returns the CNI result.
	Add(ctx context.Context, req *api.Request) (*current.Result, error)
	// Del removes what Add created. It must be idempotent: containerd calls
	// DEL again with an empty Netns, and for a container it does not know the
	// handler must succeed.
	Del(ctx context.Context, req *api.Request) error
	// Check verifies that the container's networking is as Add left it.
	Check(ctx context.Context, req *api.Request) error
	// Status reports whether the agent can serve ADD requests now.
	Status(ctx context.Context, req *api.Request) error
	// GC releases every attachment of this network that is not in valid.
	GC(ctx context.Context, req *api.Request, valid []types.GCAttachment) error
}
