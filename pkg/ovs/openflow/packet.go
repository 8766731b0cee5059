package openflow

import (
	"context"
	"encoding/binary"
	"fmt"
)

// Packet-in reasons (OFPR_*).
const (
	ReasonNoMatch    uint8 = 0 // table-miss
	ReasonAction     uint8 = 1 // output to CONTROLLER
	ReasonInvalidTTL uint8 = 2
	ReasonActionSet  uint8 = 3
	ReasonGroup      uint8 = 4
	ReasonPacketOut  uint8 = 5
)

// PacketIn is a packet the switch sent to the controller.
type PacketIn struct {
	BufferID uint32 // switch buffer holding the packet, or 0xffffffff
	TotalLen uint16 // length of the whole frame
	Reason   uint8  // Reason* constant
	Table    uint8  // table of the flow that sent the packet
	Cookie   uint64 // cookie of that flow
	// Match holds the pipeline fields of the packet (in_port, registers,
	// metadata, tunnel fields, ct state ...).
	Match Match
	Data  []byte // the frame, or its first bytes
}

// InPort returns the ingress port recorded in the packet-in match.
func (p *PacketIn) InPort() uint32 {
	v, _, _ := p.Match.uint(FieldInPort)
	return uint32(v)
}

// ParsePacketIn decodes an OpenFlow 1.5 OFPT_PACKET_IN.
func ParsePacketIn(m *Message) (*PacketIn, error) {
	if m.Type != TypePacketIn {
		return nil, fmt.Errorf("openflow: %s is not a packet-in", m.Type)
	}
	b := m.Body()
	if len(b) < 16 {
		return nil, ErrShort
	}
	p := &PacketIn{BufferID: be32(b), TotalLen: be16(b[4:]), Reason: b[6], Table: b[7], Cookie: be64(b[8:])}
	match, n, err := parseMatch(b[16:])
	if err != nil {
		return nil, err
	}
	p.Match = match
	rest := b[16+n:]
	if len(rest) < 2 {
		return nil, ErrShort
	}
	p.Data = append([]byte(nil), rest[2:]...)
	return p, nil
}

// encodePacketIn builds an OFPT_PACKET_IN (for tests and fake switches).
func encodePacketIn(xid uint32, p *PacketIn) []byte {
	b := appendHeader(nil, TypePacketIn, xid)
	b = put32(b, p.BufferID)
	b = put16(b, p.TotalLen)
	b = append(b, p.Reason, p.Table)
	b = put64(b, p.Cookie)
	b = p.Match.appendTo(b)
	b = zeros(b, 2)
	b = append(b, p.Data...)
	b, _ = finishMsg(b, 0)
	return b
}

// PacketOut is a packet the controller asks the switch to process.
type PacketOut struct {
	// InPort is the packet's ingress port for the pipeline; PortController
	// when zero.
	InPort  uint32
	Actions []Action // applied to the packet; instructions are refused
	Data    []byte   // the Ethernet frame
}

// EncodePacketOut returns the OpenFlow 1.5 OFPT_PACKET_OUT for p.
func EncodePacketOut(xid uint32, p *PacketOut) ([]byte, error) {
	for _, a := range p.Actions {
		if a.kind() != kindApply {
			return nil, fmt.Errorf("openflow: packet-out cannot carry instruction %s", a)
		}
	}
	b := appendHeader(nil, TypePacketOut, xid)
	b = put32(b, noBuffer)
	b = put16(b, 0)
	b = zeros(b, 2)
	inPort := p.InPort
	if inPort == 0 {
		inPort = PortController
	}
	var m Match
	m.InPort(inPort)
	b = m.appendTo(b)
	actStart := len(b)
	for _, a := range p.Actions {
		b = a.appendTo(b)
	}
	binary.BigEndian.PutUint16(b[12:], uint16(len(b)-actStart))
	b = append(b, p.Data...)
	return finishMsg(b, 0)
}

// SendPacketOut injects a packet. It does not wait for the switch; call
// Barrier to learn about errors, which otherwise go to OnAsyncError.
func (c *Conn) SendPacketOut(ctx context.Context, p *PacketOut) error {
	s, err := c.session()
	if err != nil {
		return err
	}
	b, err := EncodePacketOut(c.nextXids(1), p)
	if err != nil {
		return err
	}
	return s.write(ctx, b)
}
