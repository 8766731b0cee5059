package openflow

import (
	"strings"
	"testing"
)

// TestMessagesDecodeInOVS encodes every message kind we send and checks that
// `ovs-ofctl ofp-parse` decodes it without error to the text we expect.
func TestMessagesDecodeInOVS(t *testing.T) {
	f := NewFlow(3).Priority(10).Cookie(5).MatchIP().Actions(Output(1))
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bundleAdd := func(xid, id uint32) []byte {
		b := (&Bundle{flags: BundleAtomic | BundleOrdered}).Add(AddFlow(f))
		patchBundleAdd(b.buf, 0, xid, id, b.flags)
		return b.buf
	}
	var filter Match
	filter.IPv4DstNet(pfx("10.0.0.0/8"))
	var pinMatch Match
	pinMatch.InPort(3).Reg(0, 5)
	echo := encodeSimple(nil, TypeEchoRequest, 99, nil)

	cases := []struct {
		name string
		msg  []byte
		want string
	}{
		{"hello", encodeHello(nil, 1), "OFPT_HELLO:\n version bitmap: 0x06"},
		{"echo request", encodeSimple(nil, TypeEchoRequest, 2, []byte("kubefay")), "OFPT_ECHO_REQUEST: 7 bytes of payload"},
		{"echo reply", encodeSimple(nil, TypeEchoReply, 3, nil), "OFPT_ECHO_REPLY: 0 bytes of payload"},
		{"features request", encodeSimple(nil, TypeFeaturesRequest, 4, nil), "OFPT_FEATURES_REQUEST:"},
		{"barrier", encodeSimple(nil, TypeBarrierRequest, 5, nil), "OFPT_BARRIER_REQUEST:"},
		{"set config", encodeSimple(nil, TypeSetConfig, 6, []byte{0, 0, 0xff, 0xff}), "OFPT_SET_CONFIG: frags=normal miss_send_len=65535"},
		{"bundle open", encodeBundleControl(nil, 7, 77, bundleOpenRequest, 3), "OFPT_BUNDLE_CONTROL:\n bundle_id=0x4d type=OPEN_REQUEST flags=atomic ordered"},
		{"bundle commit", encodeBundleControl(nil, 8, 77, bundleCommitRequest, 3), "OFPT_BUNDLE_CONTROL:\n bundle_id=0x4d type=COMMIT_REQUEST flags=atomic ordered"},
		{"bundle discard", encodeBundleControl(nil, 9, 77, bundleDiscardRequest, 1), "OFPT_BUNDLE_CONTROL:\n bundle_id=0x4d type=DISCARD_REQUEST flags=atomic"},
		{"bundle add", bundleAdd(10, 77), "OFPT_BUNDLE_ADD_MESSAGE:\n bundle_id=0x4d flags=atomic ordered\nOFPT_FLOW_MOD (OF1.5) (xid=0xa): ADD table:3 priority=10,ip cookie:0x5 actions=output:1"},
		{"flow stats all", EncodeFlowStatsRequest(11, nil), "OFPST_FLOW request:"},
		{"flow stats filter", EncodeFlowStatsRequest(12, &FlowFilter{Table: 3, Cookie: 0x10, CookieMask: 0xf0, Match: filter, OutPort: 2}),
			"OFPST_FLOW request: table=3 out_port=2 ip,nw_dst=10.0.0.0/8"},
		{"table stats", must(finishMsg(appendMultipartRequest(nil, 13, multipartTableStats), 0)), "OFPST_TABLE request:"},
		{"packet out", must(EncodePacketOut(14, &PacketOut{InPort: 3, Actions: []Action{SetEthDst(mac1), Output(2)}, Data: make([]byte, 14)})),
			"OFPT_PACKET_OUT: in_port=3 actions=set_field:02:00:c6:12:01:0b->eth_dst,output:2 data_len=14"},
		{"packet out controller", must(EncodePacketOut(15, &PacketOut{Actions: []Action{ResubmitTable(0)}, Data: make([]byte, 60)})),
			"OFPT_PACKET_OUT: in_port=CONTROLLER actions=resubmit(,0) data_len=60"},
		{"error", encodeError(nil, 16, ErrBadAction, CodeBadActionOutPort, echo), "OFPT_ERROR: OFPBAC_BAD_OUT_PORT\nOFPT_ECHO_REQUEST (OF1.5) (xid=0x63): 0 bytes of payload"},
		{"packet in", encodePacketIn(17, &PacketIn{BufferID: noBuffer, TotalLen: 14, Reason: ReasonAction, Table: 2, Cookie: 7, Match: pinMatch, Data: make([]byte, 14)}),
			"OFPT_PACKET_IN: table_id=2 cookie=0x7 total_len=14 reg0=0x5,in_port=3 (via action) data_len=14 (unbuffered)"},
		{"modify strict", must(EncodeFlowMod(18, &FlowMod{Command: FlowModifyStrict, Flow: f, CookieMask: 0xff})),
			"OFPT_FLOW_MOD: MOD_STRICT table:3 priority=10,ip cookie:0x5/0xff actions=output:1"},
		{"delete out_port", must(EncodeFlowMod(19, &FlowMod{Command: FlowDelete, Flow: f, CookieMask: 0xff, OutPort: 4})),
			"OFPT_FLOW_MOD: DEL table:3 priority=10,ip cookie:0x5/0xff out_port:4 actions=drop"},
		{"delete by cookie", must(EncodeFlowMod(20, DeleteByCookie(0x100, 0xf00))), "OFPT_FLOW_MOD: DEL table:255 cookie:0x100/0xf00 actions=drop"},
		{"delete strict", must(EncodeFlowMod(21, DeleteFlowStrict(f))), "OFPT_FLOW_MOD: DEL_STRICT table:3 priority=10,ip actions=drop"},
		{"modify", must(EncodeFlowMod(22, ModifyFlows(f))), "OFPT_FLOW_MOD: MOD table:3 priority=10,ip actions=output:1"},
	}
	var msgs [][]byte
	for _, c := range cases {
		msgs = append(msgs, c.msg)
	}
	got := ofpParse(t, msgs...)
	for _, c := range cases {
		h, err := ParseHeader(c.msg)
		if err != nil {
			t.Fatal(err)
		}
		text := got[h.Xid]
		// Drop hex dumps of payloads; compare the decoded lines.
		var lines []string
		for _, l := range strings.Split(text, "\n") {
			if !strings.HasPrefix(l, "0000") && !strings.HasPrefix(l, "vlan_tci=") {
				lines = append(lines, l)
			}
		}
		if g := strings.Join(lines, "\n"); g != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, g, c.want)
		}
	}
}
