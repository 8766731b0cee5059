package scale

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// EnvReport names a file the figures are appended to (markdown table rows).
const EnvReport = "KUBEFAY_SCALE_REPORT"

// EnvCSV names a file a line "nodes,pods,stream p50,stream p99,burst p50,
// burst p99" (ms) is appended to, for hack/plot.
const EnvCSV = "KUBEFAY_SCALE_CSV"

// report collects the figures, each with its target from issue 16.
type report struct {
	size size
	rows [][3]string
	lat  [4]time.Duration // streaming p50, p99, burst p50, p99
}

func (r *report) add(figure, target, measured string) {
	r.rows = append(r.rows, [3]string{figure, target, measured})
}

// print logs one line per figure and appends the table to $KUBEFAY_SCALE_REPORT.
func (r *report) print(t *testing.T) {
	var md strings.Builder
	fmt.Fprintf(&md, "\n%s\n\n| figure | target | measured |\n|---|---|---|\n", r.size)
	for _, row := range r.rows {
		t.Logf("SCALE %-58s target %-20s measured %s", row[0], row[1], row[2])
		fmt.Fprintf(&md, "| %s | %s | %s |\n", row[0], row[1], row[2])
	}
	if p := os.Getenv(EnvReport); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		_, _ = f.WriteString(md.String())
	}
	if p := os.Getenv(EnvCSV); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		fmt.Fprintf(f, "%d,%d", r.size.nodes, r.size.pods)
		for _, d := range r.lat {
			fmt.Fprintf(f, ",%.1f", float64(d)/float64(time.Millisecond))
		}
		fmt.Fprintln(f)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
