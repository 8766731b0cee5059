package openflow

import (
	"errors"
	"fmt"
)

// ErrorType is the type field of an OFPT_ERROR message.
type ErrorType uint16

// OpenFlow 1.5 error types.
const (
	ErrHelloFailed        ErrorType = 0
	ErrBadRequest         ErrorType = 1
	ErrBadAction          ErrorType = 2
	ErrBadInstruction     ErrorType = 3
	ErrBadMatch           ErrorType = 4
	ErrFlowModFailed      ErrorType = 5
	ErrGroupModFailed     ErrorType = 6
	ErrPortModFailed      ErrorType = 7
	ErrTableModFailed     ErrorType = 8
	ErrQueueOpFailed      ErrorType = 9
	ErrSwitchConfigFailed ErrorType = 10
	ErrRoleRequestFailed  ErrorType = 11
	ErrMeterModFailed     ErrorType = 12
	ErrTableFeatures      ErrorType = 13
	ErrBadProperty        ErrorType = 14
	ErrAsyncConfigFailed  ErrorType = 15
	ErrFlowMonitorFailed  ErrorType = 16
	ErrBundleFailed       ErrorType = 17
	ErrExperimenter       ErrorType = 0xffff
)

var errorTypeNames = [...]string{
	"OFPET_HELLO_FAILED", "OFPET_BAD_REQUEST", "OFPET_BAD_ACTION", "OFPET_BAD_INSTRUCTION",
	"OFPET_BAD_MATCH", "OFPET_FLOW_MOD_FAILED", "OFPET_GROUP_MOD_FAILED", "OFPET_PORT_MOD_FAILED",
	"OFPET_TABLE_MOD_FAILED", "OFPET_QUEUE_OP_FAILED", "OFPET_SWITCH_CONFIG_FAILED",
	"OFPET_ROLE_REQUEST_FAILED", "OFPET_METER_MOD_FAILED", "OFPET_TABLE_FEATURES_FAILED",
	"OFPET_BAD_PROPERTY", "OFPET_ASYNC_CONFIG_FAILED", "OFPET_FLOW_MONITOR_FAILED",
	"OFPET_BUNDLE_FAILED",
}

// String returns the OFPET_ name of the type.
func (t ErrorType) String() string {
	if int(t) < len(errorTypeNames) {
		return errorTypeNames[t]
	}
	if t == ErrExperimenter {
		return "OFPET_EXPERIMENTER"
	}
	return fmt.Sprintf("OFPET_%d", uint16(t))
}

// Common error codes, for comparisons with Error.Is.
const (
	CodeBundleMsgFailed    uint16 = 13 // OFPBFC_MSG_FAILED
	CodeBadActionArgument  uint16 = 5  // OFPBAC_BAD_ARGUMENT
	CodeBadMatchPrereq     uint16 = 9  // OFPBMC_BAD_PREREQ
	CodeBadInstructionTbl  uint16 = 2  // OFPBIC_BAD_TABLE_ID
	CodeFlowModTableFull   uint16 = 1  // OFPFMFC_TABLE_FULL
	CodeHelloIncompatible  uint16 = 0  // OFPHFC_INCOMPATIBLE
	CodeBadRequestBadType  uint16 = 1  // OFPBRC_BAD_TYPE
	CodeBadRequestBadStat  uint16 = 2  // OFPBRC_BAD_STAT
	CodeBadRequestBadLen   uint16 = 6  // OFPBRC_BAD_LEN
	CodeBadActionBadType   uint16 = 0  // OFPBAC_BAD_TYPE
	CodeBadActionOutPort   uint16 = 4  // OFPBAC_BAD_OUT_PORT
	CodeBadActionMatchIncs uint16 = 10 // OFPBAC_MATCH_INCONSISTENT
)

// Error is an OFPT_ERROR received from the switch. For experimenter errors
// (Type == ErrExperimenter) Code holds the experimenter's error type and
// Experimenter its id (0x00002320 for Nicira).
type Error struct {
	Type         ErrorType // OFPET_* error type
	Code         uint16    // error code within Type
	Experimenter uint32    // experimenter id when Type is ErrExperimenter
	// Xid is the transaction id of the message that failed.
	Xid uint32
	// Data holds (the start of) the offending request, as sent by the switch.
	Data []byte
}

// Name returns the symbolic name of the error, e.g. "OFPBAC_BAD_OUT_PORT".
func (e *Error) Name() string {
	if e.Type == ErrExperimenter {
		if e.Experimenter == nxVendorID {
			if n, ok := nxErrorNames[e.Code]; ok {
				return n
			}
		}
		return fmt.Sprintf("experimenter(0x%08x,%d)", e.Experimenter, e.Code)
	}
	if n, ok := errorCodeNames[uint32(e.Type)<<16|uint32(e.Code)]; ok {
		return n
	}
	return fmt.Sprintf("%s(code=%d)", e.Type, e.Code)
}

// Error implements error.
func (e *Error) Error() string {
	if e.Type == ErrExperimenter {
		return fmt.Sprintf("openflow: switch error %s (experimenter 0x%08x type %d, xid %#x)", e.Name(), e.Experimenter, e.Code, e.Xid)
	}
	return fmt.Sprintf("openflow: switch error %s/%s (type %d code %d, xid %#x)", e.Type, e.Name(), e.Type, e.Code, e.Xid)
}

// Is reports whether target is an *Error with the same type and code, so
// errors.Is(err, &openflow.Error{Type: ErrBundleFailed, Code: CodeBundleMsgFailed}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Type == e.Type && t.Code == e.Code && (t.Type != ErrExperimenter || t.Experimenter == e.Experimenter)
}

// ParseError decodes an OFPT_ERROR message.
func ParseError(m *Message) (*Error, error) {
	if m.Type != TypeError {
		return nil, fmt.Errorf("openflow: %s is not an error message", m.Type)
	}
	body := m.Body()
	if len(body) < 4 {
		return nil, ErrShort
	}
	e := &Error{Type: ErrorType(be16(body)), Code: be16(body[2:]), Xid: m.Xid}
	body = body[4:]
	if e.Type == ErrExperimenter {
		if len(body) < 4 {
			return nil, ErrShort
		}
		e.Experimenter = be32(body)
		body = body[4:]
	}
	e.Data = append([]byte(nil), body...)
	return e, nil
}

// encodeError builds an OFPT_ERROR (used by tests and fake switches).
func encodeError(b []byte, xid uint32, t ErrorType, code uint16, data []byte) []byte {
	start := len(b)
	b = appendHeader(b, TypeError, xid)
	b = put16(b, uint16(t))
	b = put16(b, code)
	b = append(b, data...)
	b, _ = finishMsg(b, start)
	return b
}

// ErrNotConnected is returned by requests made while the connection to the
// switch is down (between a disconnect and the next successful reconnect).
var ErrNotConnected = errors.New("openflow: not connected to the switch")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("openflow: connection closed")
