// Package openflow is kubefay's own OpenFlow 1.5 client for Open vSwitch,
// with the Nicira extensions the agent needs (conntrack, NAT, resubmit,
// conjunction, registers, notes, bundles).
//
// It has three layers:
//   - a typed model of flows (Flow, Match, Action) with a small builder and a
//     canonical text form that is identical to what
//     `ovs-ofctl -O OpenFlow15 dump-flows --no-stats` prints;
//   - encoders and decoders of the binary messages (flow_mod, bundles,
//     multipart flow/table stats, packet-in/out, errors);
//   - Conn, a connection to ovs-vswitchd (unix:<path> or tcp:host:port) with
//     version negotiation, keepalive, xid matching, async dispatch and
//     reconnection with an OnConnect hook for re-installing flows.
package openflow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the OpenFlow wire version spoken by this package (OpenFlow 1.5).
const Version uint8 = 0x06

// headerLen is the size of the common OpenFlow header.
const headerLen = 8

// maxMsgLen is the largest message the 16-bit length field allows.
const maxMsgLen = 0xffff

// MsgType is the type field of an OpenFlow header.
type MsgType uint8

// OpenFlow 1.5 message types used by this package.
const (
	TypeHello            MsgType = 0
	TypeError            MsgType = 1
	TypeEchoRequest      MsgType = 2
	TypeEchoReply        MsgType = 3
	TypeExperimenter     MsgType = 4
	TypeFeaturesRequest  MsgType = 5
	TypeFeaturesReply    MsgType = 6
	TypeGetConfigRequest MsgType = 7
	TypeGetConfigReply   MsgType = 8
	TypeSetConfig        MsgType = 9
	TypePacketIn         MsgType = 10
	TypeFlowRemoved      MsgType = 11
	TypePortStatus       MsgType = 12
	TypePacketOut        MsgType = 13
	TypeFlowMod          MsgType = 14
	TypeGroupMod         MsgType = 15
	TypeMultipartRequest MsgType = 18
	TypeMultipartReply   MsgType = 19
	TypeBarrierRequest   MsgType = 20
	TypeBarrierReply     MsgType = 21
	TypeRoleStatus       MsgType = 30
	TypeTableStatus      MsgType = 31
	TypeBundleControl    MsgType = 33
	TypeBundleAddMessage MsgType = 34
)

var msgTypeNames = map[MsgType]string{
	TypeHello: "HELLO", TypeError: "ERROR", TypeEchoRequest: "ECHO_REQUEST",
	TypeEchoReply: "ECHO_REPLY", TypeExperimenter: "EXPERIMENTER",
	TypeFeaturesRequest: "FEATURES_REQUEST", TypeFeaturesReply: "FEATURES_REPLY",
	TypeGetConfigRequest: "GET_CONFIG_REQUEST", TypeGetConfigReply: "GET_CONFIG_REPLY",
	TypeSetConfig: "SET_CONFIG", TypePacketIn: "PACKET_IN", TypeFlowRemoved: "FLOW_REMOVED",
	TypePortStatus: "PORT_STATUS", TypePacketOut: "PACKET_OUT", TypeFlowMod: "FLOW_MOD",
	TypeGroupMod: "GROUP_MOD", TypeMultipartRequest: "MULTIPART_REQUEST",
	TypeMultipartReply: "MULTIPART_REPLY", TypeBarrierRequest: "BARRIER_REQUEST",
	TypeBarrierReply: "BARRIER_REPLY", TypeRoleStatus: "ROLE_STATUS",
	TypeTableStatus: "TABLE_STATUS", TypeBundleControl: "BUNDLE_CONTROL",
	TypeBundleAddMessage: "BUNDLE_ADD_MESSAGE",
}

// String returns the OFPT_ name of t without the prefix, or its number.
func (t MsgType) String() string {
	if s, ok := msgTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Header is the fixed 8-byte header that starts every OpenFlow message.
type Header struct {
	Version uint8   // wire version, 0x06 for OpenFlow 1.5
	Type    MsgType // message type
	Length  uint16  // length of the whole message, header included
	Xid     uint32  // transaction id, echoed in replies
}

// ErrShort is returned by decoders when the input ends before a structure
// that its length fields announce.
var ErrShort = errors.New("openflow: message truncated")

// ParseHeader decodes the OpenFlow header at the start of b. It checks that
// the announced length is at least the header size; it does not require b to
// hold the whole message.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < headerLen {
		return Header{}, ErrShort
	}
	h := Header{Version: b[0], Type: MsgType(b[1]), Length: be16(b[2:]), Xid: be32(b[4:])}
	if h.Length < headerLen {
		return h, fmt.Errorf("openflow: header length %d below %d", h.Length, headerLen)
	}
	return h, nil
}

// Message is one received OpenFlow message. Data holds the whole message,
// header included; Body returns the part after the header.
type Message struct {
	Header
	Data []byte // the whole message, header included
}

// Body returns the message without its 8-byte header.
func (m *Message) Body() []byte { return m.Data[headerLen:] }

// ParseMessage splits the first complete message off b. It returns the
// message (sharing b's memory) and the rest of b.
func ParseMessage(b []byte) (*Message, []byte, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return nil, b, err
	}
	if int(h.Length) > len(b) {
		return nil, b, ErrShort
	}
	return &Message{Header: h, Data: b[:h.Length]}, b[h.Length:], nil
}

// appendHeader appends a header with a zero length; finishMsg patches it.
func appendHeader(b []byte, t MsgType, xid uint32) []byte {
	return append(b, Version, byte(t), 0, 0, byte(xid>>24), byte(xid>>16), byte(xid>>8), byte(xid))
}

// finishMsg writes the length of the message that starts at offset start.
func finishMsg(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if n > maxMsgLen {
		return b[:start], fmt.Errorf("openflow: message of %d bytes exceeds 65535", n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// pad8 appends zero bytes so that len(b)-start is a multiple of 8.
func pad8(b []byte, start int) []byte {
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

func put16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func put32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func put64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// zeros appends n zero bytes.
func zeros(b []byte, n int) []byte {
	for i := 0; i < n; i++ {
		b = append(b, 0)
	}
	return b
}

// encodeSimple builds a message that has only a header and an optional body.
func encodeSimple(b []byte, t MsgType, xid uint32, body []byte) []byte {
	start := len(b)
	b = appendHeader(b, t, xid)
	b = append(b, body...)
	b, _ = finishMsg(b, start)
	return b
}

// helloBitmapElem is OFPHET_VERSIONBITMAP.
const helloBitmapElem = 1

// encodeHello builds an OFPT_HELLO announcing only OpenFlow 1.5.
func encodeHello(b []byte, xid uint32) []byte {
	start := len(b)
	b = appendHeader(b, TypeHello, xid)
	b = put16(b, helloBitmapElem)
	b = put16(b, 8)
	b = put32(b, 1<<Version)
	b, _ = finishMsg(b, start)
	return b
}

// ParseHello returns the version bitmap a peer announced in its hello. When
// the hello carries no bitmap element, every version up to the header's
// version is assumed, as the specification says.
func ParseHello(m *Message) (uint32, error) {
	body := m.Body()
	for len(body) >= 4 {
		typ, l := be16(body), int(be16(body[2:]))
		if l < 4 || l > len(body) {
			return 0, fmt.Errorf("openflow: bad hello element length %d", l)
		}
		if typ == helloBitmapElem && l >= 8 {
			return be32(body[4:]), nil
		}
		l = (l + 7) &^ 7
		if l > len(body) {
			break
		}
		body = body[l:]
	}
	if m.Version >= 31 {
		return 0, fmt.Errorf("openflow: hello version %d out of range", m.Version)
	}
	return uint32(1)<<(m.Version+1) - 2, nil
}
