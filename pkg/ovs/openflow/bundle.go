package openflow

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Bundle control types (OFPBCT_*) and flags (OFPBF_*).
const (
	bundleOpenRequest    = 0
	bundleOpenReply      = 1
	bundleCommitRequest  = 4
	bundleCommitReply    = 5
	bundleDiscardRequest = 6
	bundleDiscardReply   = 7

	// BundleAtomic makes the switch apply all messages or none.
	BundleAtomic uint16 = 1 << 0
	// BundleOrdered makes the switch apply the messages in order.
	BundleOrdered uint16 = 1 << 1
)

// Bundle is a set of flow mods applied atomically with OpenFlow 1.5 bundles:
//
//	b := conn.NewBundle()
//	b.Add(openflow.AddFlow(f1), openflow.DeleteFlowStrict(f2))
//	err := b.Commit(ctx)
//
// Add only encodes (into one reusable buffer); Commit opens the bundle, sends
// every add message without waiting, syncs with a barrier, and commits only
// if the switch rejected none of them, else it discards the bundle. A
// Bundle is not safe for concurrent use; after Commit it is empty again and
// can be reused.
type Bundle struct {
	c     *Conn
	flags uint16
	buf   []byte
	offs  []int // start of each bundle-add message in buf
	mods  []*FlowMod
	err   error
}

// NewBundle starts an empty atomic, ordered bundle.
func (c *Conn) NewBundle() *Bundle { return &Bundle{c: c, flags: BundleAtomic | BundleOrdered} }

// Len returns the number of messages added since the last Commit.
func (b *Bundle) Len() int { return len(b.offs) }

// Add encodes flow mods into the bundle. Encoding errors are kept and
// returned by Commit.
func (b *Bundle) Add(mods ...*FlowMod) *Bundle {
	for _, fm := range mods {
		if b.err != nil {
			return b
		}
		start := len(b.buf)
		// OFPT_BUNDLE_ADD_MESSAGE: bundle_id and xids are patched in Commit.
		b.buf = appendHeader(b.buf, TypeBundleAddMessage, 0)
		b.buf = zeros(b.buf, 8)
		var err error
		b.buf, err = appendFlowMod(b.buf, 0, fm)
		if err == nil {
			b.buf, err = finishMsg(b.buf, start)
		}
		if err != nil {
			b.buf = b.buf[:start]
			b.err = fmt.Errorf("openflow: bundle message %d (%s): %w", len(b.offs), fm.Flow, err)
			return b
		}
		b.offs = append(b.offs, start)
		b.mods = append(b.mods, fm)
	}
	return b
}

// AddFlows adds an AddFlow for each flow.
func (b *Bundle) AddFlows(flows ...*Flow) *Bundle {
	for _, f := range flows {
		b.Add(AddFlow(f))
	}
	return b
}

// Reset drops everything added so far.
func (b *Bundle) Reset() {
	b.buf, b.offs, b.mods, b.err = b.buf[:0], b.offs[:0], b.mods[:0], nil
}

// BundleError reports a rejected bundle: the messages the switch refused
// (by index in the order they were added) and the control error, if any.
type BundleError struct {
	Failed []BundleFailure // refused messages, in the order they were added
	// Err is the error of the bundle control message (e.g. a commit that
	// failed with OFPBFC_MSG_FAILED), or nil.
	Err error
}

// BundleFailure is one refused message of a bundle.
type BundleFailure struct {
	Index int      // position of the message in the bundle
	Mod   *FlowMod // the refused flow mod
	Err   *Error   // the switch's error for it
}

// Error implements error.
func (e *BundleError) Error() string {
	var sb strings.Builder
	sb.WriteString("openflow: bundle rejected")
	if e.Err != nil {
		sb.WriteString(": ")
		sb.WriteString(e.Err.Error())
	}
	for i, f := range e.Failed {
		if i == 5 {
			fmt.Fprintf(&sb, "; and %d more", len(e.Failed)-5)
			break
		}
		fmt.Fprintf(&sb, "; message %d (%s): %s", f.Index, f.Mod, f.Err.Name())
	}
	return sb.String()
}

// Unwrap returns the control error.
func (e *BundleError) Unwrap() error { return e.Err }

// patchBundleAdd fills in the ids of the bundle-add message at off: the
// outer and the embedded xid must be equal.
func patchBundleAdd(buf []byte, off int, xid, id uint32, flags uint16) {
	binary.BigEndian.PutUint32(buf[off+4:], xid)
	binary.BigEndian.PutUint32(buf[off+8:], id)
	binary.BigEndian.PutUint16(buf[off+14:], flags)
	binary.BigEndian.PutUint32(buf[off+16+4:], xid)
}

func encodeBundleControl(b []byte, xid, id uint32, typ, flags uint16) []byte {
	start := len(b)
	b = appendHeader(b, TypeBundleControl, xid)
	b = put32(b, id)
	b = put16(b, typ)
	b = put16(b, flags)
	b, _ = finishMsg(b, start)
	return b
}

// Commit applies the bundle atomically: either every message takes effect
// or none does. On rejection it returns a *BundleError. The bundle is empty
// afterwards, whatever the outcome.
func (b *Bundle) Commit(ctx context.Context) error {
	defer b.Reset()
	if b.err != nil {
		return b.err
	}
	if len(b.offs) == 0 {
		return nil
	}
	s, err := b.c.session()
	if err != nil {
		return err
	}
	n := uint32(len(b.offs))
	// xids: open, n adds, barrier, commit/discard; the bundle id reuses the
	// open xid, which is unique on this connection.
	base := b.c.nextXids(n + 3)
	id := base
	for i, off := range b.offs {
		patchBundleAdd(b.buf, off, base+1+uint32(i), id, b.flags)
	}
	barrierXid, endXid := base+n+1, base+n+2

	openW := s.register(base)
	defer s.unregister(base, openW)
	barrierW := s.register(barrierXid)
	defer s.unregister(barrierXid, barrierW)
	adds := s.addRange(base+1, base+n)
	defer s.removeRange(adds)

	open := encodeBundleControl(nil, base, id, bundleOpenRequest, b.flags)
	barrier := encodeSimple(nil, TypeBarrierRequest, barrierXid, nil)
	if err := s.write(ctx, open, b.buf, barrier); err != nil {
		return err
	}
	m, err := s.await(ctx, openW)
	if err != nil {
		return err
	}
	if m.Type == TypeError {
		e, _ := ParseError(m)
		return &BundleError{Err: e}
	}
	if m, err = s.await(ctx, barrierW); err != nil {
		return err
	}
	if failed := b.failures(adds.errors(), base+1); len(failed) > 0 {
		b.control(ctx, s, endXid, id, bundleDiscardRequest)
		return &BundleError{Failed: failed}
	}
	if err := b.control(ctx, s, endXid, id, bundleCommitRequest); err != nil {
		return &BundleError{Failed: b.failures(adds.errors(), base+1), Err: err}
	}
	return nil
}

func (b *Bundle) failures(errs []*Error, first uint32) []BundleFailure {
	var out []BundleFailure
	for _, e := range errs {
		i := int(e.Xid - first)
		if i >= 0 && i < len(b.mods) {
			out = append(out, BundleFailure{Index: i, Mod: b.mods[i], Err: e})
		}
	}
	return out
}

// control sends a bundle control request and waits for its reply.
func (b *Bundle) control(ctx context.Context, s *session, xid, id uint32, typ uint16) error {
	m, err := s.roundTrip(ctx, xid, encodeBundleControl(nil, xid, id, typ, b.flags))
	if err != nil {
		return err
	}
	if m.Type != TypeBundleControl || len(m.Body()) < 8 || be16(m.Body()[4:]) != typ+1 {
		return errors.New("openflow: unexpected reply to bundle control")
	}
	return nil
}

// FlowMods sends flow mods outside of any bundle (each applies on its own),
// then a barrier, and returns the refused ones as a *BundleError.
func (c *Conn) FlowMods(ctx context.Context, mods ...*FlowMod) error {
	if len(mods) == 0 {
		return nil
	}
	s, err := c.session()
	if err != nil {
		return err
	}
	n := uint32(len(mods))
	base := c.nextXids(n + 1)
	var buf []byte
	for i, fm := range mods {
		if buf, err = appendFlowMod(buf, base+uint32(i), fm); err != nil {
			return fmt.Errorf("openflow: flow mod %d: %w", i, err)
		}
	}
	barrierXid := base + n
	w := s.register(barrierXid)
	defer s.unregister(barrierXid, w)
	r := s.addRange(base, base+n-1)
	defer s.removeRange(r)
	if err := s.write(ctx, buf, encodeSimple(nil, TypeBarrierRequest, barrierXid, nil)); err != nil {
		return err
	}
	if _, err := s.await(ctx, w); err != nil {
		return err
	}
	var failed []BundleFailure
	for _, e := range r.errors() {
		if i := int(e.Xid - base); i >= 0 && i < len(mods) {
			failed = append(failed, BundleFailure{Index: i, Mod: mods[i], Err: e})
		}
	}
	if len(failed) > 0 {
		return &BundleError{Failed: failed}
	}
	return nil
}
