package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// probe is one check of a connectivity matrix: run it from a source, towards
// a target, and compare what it observed with what was expected.
type probe struct {
	kind     string // one table per kind, e.g. "http /hostname"
	from, to string // row and column of the table
	expect   string // what a pass looks like, for the failure message
	// run performs the check once and returns what it observed and whether
	// that is what was expected.
	run func(ctx context.Context) (observed string, ok bool)
}

// outcome is a probe's final observation.
type outcome struct {
	probe
	observed string
	ok       bool
	attempts int
	took     time.Duration
}

const (
	probeParallel = 4                // concurrent execs: the machine has 2 shared cores
	probeAttempt  = 20 * time.Second // one attempt, exec included
	probeWindow   = 45 * time.Second // retry a failing probe this long (dataplane programming lags pod Ready)
)

// runProbes runs every probe, at most probeParallel at once, retrying a
// failing probe once a second until it passes or window has passed. One
// attempt may take probeAttempt.
func runProbes(probes []probe, window time.Duration) []outcome {
	return runProbesTimeout(probes, window, probeAttempt)
}

// runProbesTimeout is runProbes with attempts of up to attempt each.
func runProbesTimeout(probes []probe, window, attempt time.Duration) []outcome {
	out := make([]outcome, len(probes))
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = retryProbe(p, window, attempt)
		}()
	}
	wg.Wait()
	return out
}

func retryProbe(p probe, window, attempt time.Duration) outcome {
	start := time.Now()
	o := outcome{probe: p}
	for {
		o.attempts++
		ctx, cancel := context.WithTimeout(context.Background(), attempt)
		o.observed, o.ok = p.run(ctx)
		cancel()
		o.took = time.Since(start)
		if o.ok || time.Since(start) > window {
			return o
		}
		time.Sleep(time.Second)
	}
}

// reportProbes logs one table per kind (rows: from, columns: to; a cell is
// "ok", "ok/N" when it needed N attempts, or "FAIL"), and fails the test
// with the tables and one expected-vs-observed line per failed probe.
// It returns true when every probe passed.
func reportProbes(t *testing.T, title string, outs []outcome) bool {
	t.Helper()
	var failed []outcome
	for _, o := range outs {
		if !o.ok {
			failed = append(failed, o)
		}
	}
	tables := renderTables(outs)
	if len(failed) == 0 {
		t.Logf("%s: all %d probes passed\n%s", title, len(outs), tables)
		return true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d probes failed\n%s\nfailures (expected vs observed):\n", title, len(failed), len(outs), tables)
	for _, o := range failed {
		fmt.Fprintf(&b, "  [%s] %s -> %s\n      expected: %s\n      observed: %s\n      (%d attempts over %s)\n",
			o.kind, o.from, o.to, o.expect, o.observed, o.attempts, o.took.Round(100*time.Millisecond))
	}
	t.Error(b.String())
	return false
}

func renderTables(outs []outcome) string {
	var kinds []string
	byKind := map[string][]outcome{}
	for _, o := range outs {
		if _, ok := byKind[o.kind]; !ok {
			kinds = append(kinds, o.kind)
		}
		byKind[o.kind] = append(byKind[o.kind], o)
	}
	var b strings.Builder
	for _, k := range kinds {
		var rows, cols []string
		cell := map[[2]string]string{}
		for _, o := range byKind[k] {
			rows, cols = appendNew(rows, o.from), appendNew(cols, o.to)
			v := "FAIL"
			if o.ok {
				v = "ok"
				if o.attempts > 1 {
					v = fmt.Sprintf("ok/%d", o.attempts)
				}
			}
			cell[[2]string{o.from, o.to}] = v
		}
		fmt.Fprintf(&b, "  %s:\n", k)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "    from \\ to\t%s\n", strings.Join(cols, "\t"))
		for _, r := range rows {
			vals := make([]string, len(cols))
			for i, c := range cols {
				if vals[i] = cell[[2]string{r, c}]; vals[i] == "" {
					vals[i] = "-"
				}
			}
			fmt.Fprintf(tw, "    %s\t%s\n", r, strings.Join(vals, "\t"))
		}
		tw.Flush()
	}
	return b.String()
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
