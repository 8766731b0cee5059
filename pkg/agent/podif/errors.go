package podif

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
)

// NetNSError reports that the pod's network namespace cannot be opened
// (typically gone already, or a wrong CNI_NETNS). Its CNIError is code 8,
// "invalid network namespace", so pkg/cni/api.AsCNIError reports it as such
// to the runtime.
type NetNSError struct {
	// Path is the namespace path given in the spec.
	Path string
	// Err is the underlying error (wraps os.ErrNotExist when it is missing).
	Err error
}

// Error implements error.
func (e *NetNSError) Error() string { return fmt.Sprintf("open pod netns %s: %v", e.Path, e.Err) }

// Unwrap returns the underlying error.
func (e *NetNSError) Unwrap() error { return e.Err }

// CNIError returns the CNI error the runtime should see.
func (e *NetNSError) CNIError() *types.Error {
	return types.NewError(types.ErrInvalidNetNS, e.Error(), "")
}
