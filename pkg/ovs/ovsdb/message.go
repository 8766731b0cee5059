package ovsdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// MessageKind classifies a JSON-RPC 1.0 message.
type MessageKind int

// Kinds of JSON-RPC messages.
const (
	// KindRequest has a method and a non-null id and expects a reply.
	KindRequest MessageKind = iota + 1
	// KindNotification has a method and a null id.
	KindNotification
	// KindResponse has result and error members and the request's id.
	KindResponse
)

// Message is one decoded JSON-RPC 1.0 message.
type Message struct {
	// Kind tells which of the other fields are meaningful.
	Kind MessageKind
	// Method and Params are set for requests and notifications.
	Method string
	Params []json.RawMessage
	// ID is the raw id (requests and responses).
	ID json.RawMessage
	// Result is the raw result of a successful response.
	Result json.RawMessage
	// Error is the raw error of a failed response (nil if it was null).
	Error json.RawMessage
}

// ErrMalformed wraps every error of DecodeMessage and the notification
// decoders.
var ErrMalformed = errors.New("ovsdb: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// isNull reports whether raw is absent or the JSON literal null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// DecodeMessage parses and validates one JSON-RPC 1.0 message.
func DecodeMessage(data []byte) (*Message, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, malformed("%v", err)
	}
	if obj == nil {
		return nil, malformed("not a JSON object")
	}
	m := &Message{}
	if rawMethod, ok := obj["method"]; ok {
		if err := json.Unmarshal(rawMethod, &m.Method); err != nil || m.Method == "" {
			return nil, malformed("method is not a non-empty string")
		}
		rawParams, ok := obj["params"]
		if !ok {
			return nil, malformed("%s: missing params", m.Method)
		}
		if err := json.Unmarshal(rawParams, &m.Params); err != nil || m.Params == nil {
			return nil, malformed("%s: params is not an array", m.Method)
		}
		if id := obj["id"]; isNull(id) {
			m.Kind = KindNotification
		} else {
			m.Kind, m.ID = KindRequest, id
		}
		return m, nil
	}
	id, hasID := obj["id"]
	result, hasResult := obj["result"]
	rawErr, hasErr := obj["error"]
	if !hasID || isNull(id) {
		return nil, malformed("response without id")
	}
	if !hasResult && !hasErr {
		return nil, malformed("response without result or error")
	}
	m.Kind, m.ID = KindResponse, id
	if !isNull(rawErr) {
		m.Error = rawErr
	} else {
		m.Result = result
	}
	return m, nil
}

// request is an outgoing request or notification.
type request struct {
	Method string `json:"method"`
	Params []any  `json:"params"`
	ID     any    `json:"id"`
}

// response is an outgoing reply.
type response struct {
	ID     json.RawMessage `json:"id"`
	Result any             `json:"result"`
	Error  any             `json:"error"`
}
