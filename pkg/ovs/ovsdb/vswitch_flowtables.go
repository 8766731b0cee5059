package ovsdb

import (
	"maps"
	"slices"
	"strconv"
)

// planFlowTables returns the value of a bridge's flow_tables column that
// names its OpenFlow tables as want says (table number → name), and the
// inserts of the Flow_Table rows it needs: a row of have (the column's
// current value) whose name already matches is kept. changed is false when
// have already names exactly these tables.
func (v *VSwitch) planFlowTables(have Map, want map[uint8]string) (value Map, inserts []Operation, changed bool) {
	value = make(Map, len(want))
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if u, ok := have[int64(id)].(UUID); ok {
			if row, ok := v.mon.cache.Row(TableFlowTable, u); ok && row.String("name") == want[id] {
				value[int64(id)] = u
				continue
			}
		}
		ref := NamedUUID("kftable" + strconv.Itoa(int(id)))
		inserts = append(inserts, Operation{Op: OpInsert, Table: TableFlowTable, UUIDName: string(ref),
			Row: map[string]any{"name": want[id]}})
		value[int64(id)] = ref
	}
	return value, inserts, len(inserts) > 0 || len(have) != len(want)
}
