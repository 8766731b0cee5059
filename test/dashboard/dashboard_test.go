// Package dashboard checks build/grafana/kubefay-dashboard.json and the
// README's metrics table against the metrics the code defines: every
// kubefay_ metric a panel queries exists, and every one the code defines is
// documented.
package dashboard

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var metricName = regexp.MustCompile(`kubefay_[a-z0-9_]+`)

// definedMetrics returns the kubefay_ names in string literals of the
// non-test Go files under pkg/.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	lit := regexp.MustCompile(`"(kubefay_[a-z0-9_]+)"`)
	out := map[string]bool{}
	err := filepath.WalkDir("../../pkg", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(src), -1) {
			out[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("only %d metrics found in pkg/: %v", len(out), out)
	}
	return out
}

// known reports whether name, or the histogram it is a series of, is defined.
func known(defined map[string]bool, name string) bool {
	if defined[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && defined[base] {
			return true
		}
	}
	return false
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
}

func TestDashboardQueriesDefinedMetrics(t *testing.T) {
	defined := definedMetrics(t)
	data, err := os.ReadFile("../../build/grafana/kubefay-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string  `json:"uid"`
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without uid or panels")
	}
	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q is wider than the grid", p.Title)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") {
				t.Errorf("panel %q: unbalanced parentheses in %s", p.Title, tg.Expr)
			}
			for _, name := range metricNames(tg.Expr) {
				used[name] = true
				if !known(defined, name) {
					t.Errorf("panel %q queries %s, which no code defines", p.Title, name)
				}
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("no kubefay_ metric queried")
	}
}

func TestREADMEDocumentsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### Metrics\n")
	if !ok {
		t.Fatal("README has no Metrics section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[string]bool{}
	for _, n := range metricNames(section) {
		documented[n] = true
	}
	for name := range definedMetrics(t) {
		if !documented[name] {
			t.Errorf("%s is not in the README's metrics table", name)
		}
	}
}

func metricNames(s string) []string { return metricName.FindAllString(s, -1) }
