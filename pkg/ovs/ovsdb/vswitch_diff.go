package ovsdb

import (
	"maps"
	"slices"
	"sort"
)

// mergeMutations returns the mutations that make column col contain every
// pair of want (other keys are kept): delete the keys whose value differs
// or is missing, then insert the wanted pairs. nil if nothing differs.
func mergeMutations(col string, have, want map[string]string) []Mutation {
	var keys Set
	pairs := Map{}
	for _, k := range sortedKeys(want) {
		if hv, ok := have[k]; ok && hv == want[k] {
			continue
		}
		if _, ok := have[k]; ok {
			keys = append(keys, k)
		}
		pairs[k] = want[k]
	}
	if len(pairs) == 0 {
		return nil
	}
	var out []Mutation
	if len(keys) > 0 {
		out = append(out, Mutate(col, "delete", keys))
	}
	return append(out, Mutate(col, "insert", pairs))
}

// sameStringMap compares two maps, treating nil as empty.
func sameStringMap(a, b map[string]string) bool {
	return len(a) == len(b) && maps.Equal(a, b)
}

// sameStrings compares two string sets regardless of order.
func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

func sortedKeys(m map[string]string) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}

// optionalInt is the value of an optional integer column: n, or [] for 0.
func optionalInt(n int) any {
	if n <= 0 {
		return Set{}
	}
	return n
}

// stringMap converts m into a Map (empty, never nil).
func stringMap(m map[string]string) Map {
	out := make(Map, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
