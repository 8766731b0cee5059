package openflow

import (
	"fmt"
	"net/netip"
	"testing"
)

// actionID names an action kind for the coverage check: its Go type, plus
// the name for the argument-free actions that share one type.
func actionID(a Action) string {
	if s, ok := a.(*simpleAction); ok {
		return s.name
	}
	return fmt.Sprintf("%T", a)
}

func collectActions(acts []Action, seen map[string]bool) {
	for _, a := range acts {
		seen[actionID(a)] = true
		switch x := a.(type) {
		case *CTAction:
			collectActions(x.Actions, seen)
		case *WriteActionsAction:
			collectActions(x.Actions, seen)
		}
	}
}

// TestOracleCoversEverything fails when a match field or an action kind
// that the package can encode has no case in the ovs-ofctl oracle table, so
// new features cannot be added without proof that OVS agrees.
func TestOracleCoversEverything(t *testing.T) {
	matched := map[Field]bool{}
	acts := map[string]bool{}
	for _, c := range flowCases() {
		for _, e := range c.flow.Match.entries {
			matched[e.field] = true
		}
		collectActions(c.flow.Actions, acts)
	}
	for f := FieldConjID; f.valid(); f++ {
		if f >= FieldXReg0 && f <= FieldXXReg3 {
			continue // matched as the 32-bit registers they consist of
		}
		if !matched[f] {
			t.Errorf("no oracle flow matches %s", f)
		}
	}
	every := []Action{
		Output(1), Group(1), SetReg(0, 1), MoveField(Reg(0), Reg(1)), DecTTL(), PopVLAN(),
		PushVLAN(0x8100), GotoTable(1), WriteActions(), ClearActions(), WriteMetadata(0, 1),
		ResubmitTable(1), Note(nil), Conjunction(1, 1, 2), CTClear(), CT(),
		SNAT(netip.Addr{}, netip.Addr{}, 0, 0), OutputReg(Reg(0), 0, 31),
	}
	for _, a := range every {
		if !acts[actionID(a)] {
			t.Errorf("no oracle flow uses %s", actionID(a))
		}
	}
}
