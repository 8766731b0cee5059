package agent

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
)

func TestSyncDurations(t *testing.T) {
	tests := []struct {
		name string
		runs map[string][]error // loop -> results of its runs
		want string             // sample counts per loop and result
	}{
		{name: "ok and failed runs", runs: map[string][]error{
			"node":          {nil, errors.New("nft"), nil},
			"networkpolicy": {nil},
		}, want: `
kubefay_sync_duration_seconds_count{loop="networkpolicy",result="ok"} 1
kubefay_sync_duration_seconds_count{loop="node",result="error"} 1
kubefay_sync_duration_seconds_count{loop="node",result="ok"} 2
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSyncDurations()
			for loop, errs := range tt.runs {
				obs := s.observer(loop)
				for _, err := range errs {
					obs(3*time.Millisecond, err)
				}
			}
			got := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(scrapeText(t, s)), "\n") {
				if strings.HasPrefix(line, "kubefay_sync_duration_seconds_count") {
					got[line] = true
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(tt.want), "\n") {
				if !got[line] {
					t.Errorf("missing %q in %v", line, got)
				}
			}
			if len(got) != len(strings.Split(strings.TrimSpace(tt.want), "\n")) {
				t.Errorf("got %v, want exactly\n%s", got, tt.want)
			}
		})
	}
}

// scrapeText renders the histogram as the text format.
func scrapeText(t *testing.T, s *syncDurations) string {
	t.Helper()
	b, err := testutil.CollectAndFormat(s.h, expfmt.TypeTextPlain, "kubefay_sync_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
