package openflow

import (
	"errors"
	"strings"
	"testing"
)

func TestParseHello(t *testing.T) {
	cases := []struct {
		name    string
		msg     []byte
		want    uint32
		wantErr bool
	}{
		{"our hello", encodeHello(nil, 1), 1 << 6, false},
		// What br-int answers with protocols=OpenFlow10,13,15 (OVS-LAB.md).
		{"ovs bitmap", []byte{6, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x52}, 0x52, false},
		{"no element", encodeSimple(nil, TypeHello, 1, nil), 0x7e, false},
		{"unknown element first", encodeSimple(nil, TypeHello, 1, []byte{0, 9, 0, 4, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0x10}), 0x10, false},
		{"element length beyond body", encodeSimple(nil, TypeHello, 1, []byte{0, 1, 0, 12, 0, 0, 0, 0x40}), 0, true},
		{"element length below 4", encodeSimple(nil, TypeHello, 1, []byte{0, 1, 0, 2, 0, 0, 0, 0x40}), 0, true},
	}
	for _, c := range cases {
		m, _, err := ParseMessage(c.msg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := ParseHello(m)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("%s: ParseHello = %#x, %v; want %#x, error %v", c.name, got, err, c.want, c.wantErr)
		}
	}
}

func TestParseError(t *testing.T) {
	req := encodeSimple(nil, TypeEchoRequest, 9, nil)
	cases := []struct {
		name string
		msg  []byte
		want string
		is   *Error
	}{
		{"bad out port", encodeError(nil, 7, ErrBadAction, CodeBadActionOutPort, req), "OFPBAC_BAD_OUT_PORT",
			&Error{Type: ErrBadAction, Code: CodeBadActionOutPort}},
		{"bundle msg failed", encodeError(nil, 8, ErrBundleFailed, CodeBundleMsgFailed, nil), "OFPBFC_MSG_FAILED",
			&Error{Type: ErrBundleFailed, Code: CodeBundleMsgFailed}},
		{"unknown code", encodeError(nil, 9, ErrBadMatch, 999, nil), "OFPET_BAD_MATCH(code=999)", nil},
		{"nicira experimenter", encodeError(nil, 10, ErrExperimenter, 0, put32(nil, nxVendorID)), "", nil},
	}
	for _, c := range cases {
		m, _, err := ParseMessage(c.msg)
		if err != nil {
			t.Fatal(err)
		}
		e, err := ParseError(m)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.want != "" && e.Name() != c.want {
			t.Errorf("%s: Name() = %q, want %q", c.name, e.Name(), c.want)
		}
		if !strings.Contains(e.Error(), e.Name()) || e.Xid != m.Xid {
			t.Errorf("%s: Error() = %q, xid %#x", c.name, e.Error(), e.Xid)
		}
		if c.is != nil && !errors.Is(e, c.is) {
			t.Errorf("%s: errors.Is(%v, %v) is false", c.name, e, c.is)
		}
	}
	if len(errorData(t, req)) != len(req) {
		t.Errorf("error data not kept")
	}
	short, _, _ := ParseMessage(encodeSimple(nil, TypeError, 1, []byte{0, 1}))
	if _, err := ParseError(short); !errors.Is(err, ErrShort) {
		t.Errorf("short error: %v, want ErrShort", err)
	}
}

// errorData returns the data kept by an error that carries req.
func errorData(t *testing.T, req []byte) []byte {
	m, _, _ := ParseMessage(encodeError(nil, 1, ErrBadRequest, CodeBadRequestBadType, req))
	e, err := ParseError(m)
	if err != nil {
		t.Fatal(err)
	}
	return e.Data
}
