package pipeline

import (
	"regexp"
	"slices"
	"strconv"
	"testing"
)

var gotoTarget = regexp.MustCompile(`(?:goto_table:|ct\([^)]*table=)(\d+)`)

// TestPipelineDeclaration: the declaration is the pipeline. Tables are in
// packet order with distinct numbers, every table has exactly one miss flow
// (priority 0, no match, from MissFlows), and every goto of every flow of a
// node (and every ct(table=...)) targets a declared table after its own.
func TestPipelineDeclaration(t *testing.T) {
	for i := 1; i < len(Tables); i++ {
		if Tables[i].ID <= Tables[i-1].ID {
			t.Fatalf("table %s (%d) is declared after %s (%d)", Tables[i].Name, Tables[i].ID, Tables[i-1].Name, Tables[i-1].ID)
		}
	}
	misses := map[uint8]int{}
	for _, f := range nodeFlows(3) {
		from, ok := TableByID(f.Table)
		if !ok {
			t.Fatalf("flow in an undeclared table: %s", f)
		}
		if f.Priority == MissPriority {
			if f.Key() != "table="+strconv.Itoa(int(f.Table))+",priority=0" {
				t.Errorf("a priority-0 flow that is not a table miss: %s", f)
			}
			misses[f.Table]++
		}
		for _, m := range gotoTarget.FindAllStringSubmatch(f.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			to, ok := TableByID(uint8(n))
			if !ok || to.ID <= from.ID {
				t.Errorf("%s: goes from %s to table %d (declared: %v), not forward", f, from.Name, n, ok)
			}
		}
	}
	for _, tb := range Tables {
		if misses[tb.ID] != 1 {
			t.Errorf("table %s has %d miss flows, want 1", tb.Name, misses[tb.ID])
		}
		if tb.Miss.Kind == MissNext {
			if to, ok := TableByID(tb.Miss.Next); !ok || to.ID <= tb.ID {
				t.Errorf("table %s misses to table %d, not a later declared table", tb.Name, tb.Miss.Next)
			}
		}
	}
}

// TestPriorityDeclaration: every flow's priority is its table's miss or one
// the table declares (priorities.go), and each table lists them highest first.
func TestPriorityDeclaration(t *testing.T) {
	for _, f := range nodeFlows(3) {
		tb, _ := TableByID(f.Table)
		if f.Priority == MissPriority || slices.ContainsFunc(tb.Priorities(), func(p Priority) bool { return p.Value == f.Priority }) {
			continue
		}
		t.Errorf("%s: priority %d is not declared for table %s", f, f.Priority, tb.Name)
	}
	for _, tb := range Tables {
		ps := tb.Priorities()
		for i := 1; i < len(ps); i++ {
			if ps[i].Value > ps[i-1].Value {
				t.Errorf("table %s: priority %d (%s) is listed after %d", tb.Name, ps[i].Value, ps[i].What, ps[i-1].Value)
			}
		}
	}
}
