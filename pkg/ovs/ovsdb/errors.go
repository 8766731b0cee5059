package ovsdb

import (
	"encoding/json"
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by calls on a Client after Close.
	ErrClosed = errors.New("ovsdb: client closed")
	// ErrDisconnected is returned by a call whose connection was lost before
	// the reply arrived; a transaction may or may not have been committed.
	ErrDisconnected = errors.New("ovsdb: connection lost before the reply")
	// ErrNotFound is returned by typed helpers when a named row is missing.
	ErrNotFound = errors.New("ovsdb: not found")
)

// RPCError is a JSON-RPC error reply ("error" member not null).
type RPCError struct {
	// Method is the method of the failed request.
	Method string
	// Raw is the "error" member as sent by the server.
	Raw json.RawMessage
}

// Error formats the server's error, using its "error" and "details" members
// when it is an object.
func (e *RPCError) Error() string {
	var obj struct {
		Error   string `json:"error"`
		Details string `json:"details"`
	}
	if json.Unmarshal(e.Raw, &obj) == nil && obj.Error != "" {
		if obj.Details != "" {
			return fmt.Sprintf("ovsdb: %s: %s: %s", e.Method, obj.Error, obj.Details)
		}
		return fmt.Sprintf("ovsdb: %s: %s", e.Method, obj.Error)
	}
	var s string
	if json.Unmarshal(e.Raw, &s) == nil {
		return fmt.Sprintf("ovsdb: %s: %s", e.Method, s)
	}
	return fmt.Sprintf("ovsdb: %s: %s", e.Method, string(e.Raw))
}

// TransactionError reports the first failed operation of a transaction,
// or a failure of the commit itself (Index == len(ops), Op == "commit").
type TransactionError struct {
	// Index is the position of the failing operation in the request.
	Index int
	// Op and Table describe the failing operation ("commit" if none).
	Op, Table string
	// Err is the server's short error name, e.g. "constraint violation".
	Err string
	// Details is the server's human-readable explanation, if any.
	Details string
	// Results are all results the server returned.
	Results []OperationResult
}

// Error formats the failing operation and the server's error and details.
func (e *TransactionError) Error() string {
	what := e.Op
	if e.Table != "" {
		what += " " + e.Table
	}
	msg := fmt.Sprintf("ovsdb: transaction failed at operation %d (%s): %s", e.Index, what, e.Err)
	if e.Details != "" {
		msg += ": " + e.Details
	}
	return msg
}

// InterfaceError is the text ovs-vswitchd put in an Interface's error
// column (for example a missing network device or bad tunnel options).
type InterfaceError struct {
	// Name is the interface name.
	Name string
	// Message is the error column text.
	Message string
}

// Error formats the interface name and the error column text.
func (e *InterfaceError) Error() string {
	return fmt.Sprintf("ovsdb: interface %s: %s", e.Name, e.Message)
}
