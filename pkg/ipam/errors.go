package ipam

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"

	"github.com/kubefay/kubefay/pkg/containerid"
)

// Reason classifies an IPAM failure; it doubles as the reason of a
// Kubernetes Event.
type Reason string

// The reasons an Allocate or Release can fail for.
const (
	// ReasonInvalidRequest: the request lacks a field or carries a bad one.
	ReasonInvalidRequest Reason = "InvalidRequest"
	// ReasonSubnetNotFound: the SubNet named by the request does not exist.
	ReasonSubnetNotFound Reason = "SubnetNotFound"
	// ReasonInvalidSubnet: the SubNet's spec cannot be used (bad CIDR ...).
	ReasonInvalidSubnet Reason = "InvalidSubnet"
	// ReasonSubnetFull: no address of the subnet is free.
	ReasonSubnetFull Reason = "SubnetFull"
	// ReasonIPOutOfRange: a requested address (static IP, ip pool entry)
	// outside the subnet's CIDR.
	ReasonIPOutOfRange Reason = "IPOutOfRange"
	// ReasonIPReserved: a requested address that is the subnet's gateway,
	// network or broadcast address.
	ReasonIPReserved Reason = "IPReserved"
	// ReasonIPExcluded: a requested address listed in the subnet's excludeIPs.
	ReasonIPExcluded Reason = "IPExcluded"
	// ReasonIPInUse: a static address held by another live pod.
	ReasonIPInUse Reason = "IPInUse"
	// ReasonIPPoolExhausted: every address of the pod's ip pool is held by
	// another live pod.
	ReasonIPPoolExhausted Reason = "IPPoolExhausted"
	// ReasonConflict: the blocks kept changing under us; retry later.
	ReasonConflict Reason = "Conflict"
)

// Holder identifies who holds an address.
type Holder struct {
	Namespace, Pod, ContainerID, Interface, Node string
}

// String names the holder the way a user looks it up: namespace/pod.
func (h Holder) String() string {
	if h.Pod == "" {
		return fmt.Sprintf("container %s (interface %s) on node %q", h.ContainerID, h.Interface, h.Node)
	}
	return fmt.Sprintf("pod %s/%s (container %s, interface %s, node %q)", h.Namespace, h.Pod, containerid.Short(h.ContainerID), h.Interface, h.Node)
}

// short names the holder in lists: namespace/pod, or the node for an
// address without a pod.
func (h Holder) short() string {
	if h.Pod == "" {
		return fmt.Sprintf("node %s (%s)", h.Node, h.Interface)
	}
	return h.Namespace + "/" + h.Pod
}

// Error is the typed error IPAM returns: callers turn it into a CNI error
// (CNIError) or an Event (Reason, Error).
type Error struct {
	Reason Reason
	// Subnet is the SubNet concerned, if any.
	Subnet string
	// IP is the address concerned, if any.
	IP netip.Addr
	// Holder is set for ReasonIPInUse.
	Holder *Holder
	// Message is the human-readable explanation.
	Message string
	// Err is the underlying error, if any.
	Err error
}

// Error returns the message, with the underlying error if there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether retrying the same request later may succeed
// without anyone changing a spec: the subnet may get free addresses, a
// holder may go away, the blocks may stop changing, the subnet may appear.
func (e *Error) Temporary() bool {
	switch e.Reason {
	case ReasonSubnetFull, ReasonIPInUse, ReasonIPPoolExhausted, ReasonConflict, ReasonSubnetNotFound:
		return true
	}
	return false
}

// CNIError maps the error onto the CNI error codes: temporary failures are
// "try again later" (11), requests that can never succeed as written are
// "invalid network config" (7).
func (e *Error) CNIError() *types.Error {
	code := uint(types.ErrInvalidNetworkConfig)
	if e.Temporary() {
		code = types.ErrTryAgainLater
	}
	return types.NewError(code, e.Error(), string(e.Reason))
}

// ReasonOf returns the Reason of the *Error in err's chain, or "" if there
// is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// IsReason reports whether err's chain holds an *Error with reason r.
func IsReason(err error, r Reason) bool { return ReasonOf(err) == r }

func newError(r Reason, subnet string, format string, a ...any) *Error {
	return &Error{Reason: r, Subnet: subnet, Message: fmt.Sprintf(format, a...)}
}
