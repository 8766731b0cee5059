package openflow

import (
	"context"
	"fmt"
	"time"
)

// Multipart types and flags.
const (
	multipartFlowDesc   = 1
	multipartTableStats = 3
	multipartReplyMore  = 1
)

// FlowFilter selects flows for DumpFlows and FlowStats. A nil filter selects
// every flow.
type FlowFilter struct {
	// Table restricts the request to one table; TableAll for every table.
	Table uint8
	// Cookie and CookieMask select flows whose cookie matches in the mask.
	Cookie, CookieMask uint64
	// Match selects flows whose match includes this one (non-strict).
	Match Match
	// OutPort and OutGroup select flows that output there; zero means any.
	OutPort, OutGroup uint32
}

// FlowStats is one flow with its counters, as reported by the switch.
type FlowStats struct {
	Flow     *Flow         // the flow entry
	Packets  uint64        // packets that hit the flow
	Bytes    uint64        // bytes that hit the flow
	Duration time.Duration // time since the flow was installed
	// IdleAge is how long the flow has not been hit (-1 if unknown).
	IdleAge time.Duration
}

// TableStats are the counters of one flow table.
type TableStats struct {
	Table        uint8  // table id
	ActiveCount  uint32 // flows in the table
	LookupCount  uint64 // packets looked up in the table
	MatchedCount uint64 // packets that hit a flow
}

func appendMultipartRequest(b []byte, xid uint32, typ uint16) []byte {
	b = appendHeader(b, TypeMultipartRequest, xid)
	b = put16(b, typ)
	b = put16(b, 0)
	return zeros(b, 4)
}

// EncodeFlowStatsRequest returns an OFPMP_FLOW_DESC request for filter.
func EncodeFlowStatsRequest(xid uint32, filter *FlowFilter) []byte {
	if filter == nil {
		filter = &FlowFilter{Table: TableAll}
	}
	b := appendMultipartRequest(nil, xid, multipartFlowDesc)
	b = append(b, filter.Table, 0, 0, 0)
	b = putOutFilter(b, filter.OutPort, filter.OutGroup)
	b = zeros(b, 4)
	b = put64(b, filter.Cookie)
	b = put64(b, filter.CookieMask)
	b = filter.Match.appendTo(b)
	b, _ = finishMsg(b, 0)
	return b
}

// multipart runs a multipart request and hands every reply body (after
// the multipart header) to fn until the last part.
func (c *Conn) multipart(ctx context.Context, typ uint16, req func(xid uint32) []byte, fn func(body []byte) error) error {
	s, err := c.session()
	if err != nil {
		return err
	}
	xid := c.nextXids(1)
	w := s.register(xid)
	defer s.unregister(xid, w)
	if err := s.write(ctx, req(xid)); err != nil {
		return err
	}
	for {
		m, err := s.await(ctx, w)
		if err != nil {
			return err
		}
		if m.Type == TypeError {
			e, err := ParseError(m)
			if err != nil {
				return err
			}
			return e
		}
		body := m.Body()
		if m.Type != TypeMultipartReply || len(body) < 8 || be16(body) != typ {
			return fmt.Errorf("openflow: unexpected %s in reply to multipart request", m.Type)
		}
		if err := fn(body[8:]); err != nil {
			return err
		}
		if be16(body[2:])&multipartReplyMore == 0 {
			return nil
		}
	}
}

// FlowStats returns the flows selected by filter with their counters,
// decoded from every part of the multipart reply.
func (c *Conn) FlowStats(ctx context.Context, filter *FlowFilter) ([]FlowStats, error) {
	var out []FlowStats
	err := c.multipart(ctx, multipartFlowDesc,
		func(xid uint32) []byte { return EncodeFlowStatsRequest(xid, filter) },
		func(body []byte) error {
			fs, err := ParseFlowStatsBody(body)
			out = append(out, fs...)
			return err
		})
	return out, err
}

// DumpFlows returns the flows selected by filter (nil for all).
func (c *Conn) DumpFlows(ctx context.Context, filter *FlowFilter) ([]*Flow, error) {
	fs, err := c.FlowStats(ctx, filter)
	if err != nil {
		return nil, err
	}
	flows := make([]*Flow, len(fs))
	for i := range fs {
		flows[i] = fs[i].Flow
	}
	return flows, nil
}

// flowDescFixedLen is the size of ofp_flow_desc before the match.
const flowDescFixedLen = 24

// ParseFlowStatsReply decodes one OFPMP_FLOW_DESC reply message.
func ParseFlowStatsReply(m *Message) (stats []FlowStats, more bool, err error) {
	body := m.Body()
	if m.Type != TypeMultipartReply || len(body) < 8 || be16(body) != multipartFlowDesc {
		return nil, false, fmt.Errorf("openflow: not a flow stats reply")
	}
	stats, err = ParseFlowStatsBody(body[8:])
	return stats, be16(body[2:])&multipartReplyMore != 0, err
}

// ParseFlowStatsBody decodes the array of ofp_flow_desc entries of a flow
// stats reply part.
func ParseFlowStatsBody(b []byte) ([]FlowStats, error) {
	var out []FlowStats
	for len(b) > 0 {
		if len(b) < flowDescFixedLen {
			return out, ErrShort
		}
		l := int(be16(b))
		if l < flowDescFixedLen+8 || l > len(b) {
			return out, fmt.Errorf("openflow: flow stats entry length %d", l)
		}
		e := b[:l]
		b = b[l:]
		f := &Flow{Table: e[4], Priority: be16(e[6:]), IdleTimeout: be16(e[8:]),
			HardTimeout: be16(e[10:]), Flags: FlowFlags(be16(e[12:])), Importance: be16(e[14:]),
			Cookie: be64(e[16:])}
		match, n, err := parseMatch(e[flowDescFixedLen:])
		if err != nil {
			return out, err
		}
		f.Match = match
		rest := e[flowDescFixedLen+n:]
		st := FlowStats{Flow: f, IdleAge: -1}
		// ofp_stats: reserved(2), length(2), OXS entries, padded to 8.
		if len(rest) < 4 {
			return out, ErrShort
		}
		sl := int(be16(rest[2:]))
		padded := (sl + 7) &^ 7
		if sl < 4 || padded > len(rest) {
			return out, fmt.Errorf("openflow: flow stats OXS length %d", sl)
		}
		parseOXS(rest[4:sl], &st)
		acts, err := parseInstructions(rest[padded:])
		if err != nil {
			return out, err
		}
		f.Actions = acts
		out = append(out, st)
	}
	return out, nil
}

// OXS basic stat fields.
const (
	oxsDuration    = 0
	oxsIdleTime    = 1
	oxsPacketCount = 4
	oxsByteCount   = 5
)

// parseOXS reads the OpenFlow 1.5 statistics entries it knows and skips the rest.
func parseOXS(b []byte, st *FlowStats) {
	for len(b) >= 4 {
		h := be32(b)
		l := int(h & 0xff)
		if len(b) < 4+l {
			return
		}
		v := b[4 : 4+l]
		b = b[4+l:]
		if h>>16 != 0x8002 || l != 8 {
			continue
		}
		x := be64(v)
		switch (h >> 9) & 0x7f {
		case oxsDuration:
			st.Duration = time.Duration(x>>32)*time.Second + time.Duration(uint32(x))
		case oxsIdleTime:
			st.IdleAge = time.Duration(x>>32)*time.Second + time.Duration(uint32(x))
		case oxsPacketCount:
			st.Packets = x
		case oxsByteCount:
			st.Bytes = x
		}
	}
}

// TableStats returns the counters of every table.
func (c *Conn) TableStats(ctx context.Context) ([]TableStats, error) {
	var out []TableStats
	err := c.multipart(ctx, multipartTableStats,
		func(xid uint32) []byte {
			b, _ := finishMsg(appendMultipartRequest(nil, xid, multipartTableStats), 0)
			return b
		},
		func(body []byte) error {
			ts, err := ParseTableStatsBody(body)
			out = append(out, ts...)
			return err
		})
	return out, err
}

// ParseTableStatsBody decodes the array of ofp_table_stats of a reply part.
func ParseTableStatsBody(b []byte) ([]TableStats, error) {
	if len(b)%24 != 0 {
		return nil, fmt.Errorf("openflow: table stats length %d not a multiple of 24", len(b))
	}
	out := make([]TableStats, 0, len(b)/24)
	for ; len(b) >= 24; b = b[24:] {
		out = append(out, TableStats{Table: b[0], ActiveCount: be32(b[4:]), LookupCount: be64(b[8:]), MatchedCount: be64(b[16:])})
	}
	return out, nil
}
