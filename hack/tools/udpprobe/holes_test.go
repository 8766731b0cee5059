package main

import (
	"reflect"
	"testing"
	"time"
)

func TestHoles(t *testing.T) {
	at := func(ms int) time.Time { return time.Date(2026, 1, 1, 10, 0, 0, ms*int(time.Millisecond), time.UTC) }
	got := func(seqs ...uint64) map[uint64]time.Time {
		m := map[uint64]time.Time{}
		for _, s := range seqs {
			m[s] = at(int(s))
		}
		return m
	}
	for _, tc := range []struct {
		name string
		seen map[uint64]time.Time
		from uint64
		sent uint64
		max  int
		want []Hole
	}{
		{"none lost", got(0, 1, 2), 0, 3, 5, nil},
		{"longest first", got(0, 2, 6), 0, 7, 5, []Hole{
			{From: 3, Count: 3, After: "10:00:00.002", Until: "10:00:00.006"},
			{From: 1, Count: 1, After: "10:00:00.000", Until: "10:00:00.002"},
		}},
		{"head and tail", got(2, 3), 0, 6, 5, []Hole{
			{From: 0, Count: 2, Until: "10:00:00.002"},
			{From: 4, Count: 2, After: "10:00:00.003"},
		}},
		{"from a later start", got(2, 3), 2, 6, 5, []Hole{
			{From: 4, Count: 2, After: "10:00:00.003"},
		}},
		{"at most max", got(0, 2, 4, 6), 0, 7, 1, []Hole{
			{From: 1, Count: 1, After: "10:00:00.000", Until: "10:00:00.002"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if h := holes(tc.seen, tc.from, tc.sent, tc.max); !reflect.DeepEqual(h, tc.want) {
				t.Errorf("holes = %+v, want %+v", h, tc.want)
			}
		})
	}
}
