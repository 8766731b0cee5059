// Command plot draws kubefay's benchmark figures (a module of its own, so
// that kubefay's go.mod does not carry gonum):
//
//   - scale: docs/scale-latency.png from the lines hack/bench-scale collects
//     (test/integration/scale, KUBEFAY_SCALE_CSV): allocation latency p50/p99
//     against cluster size;
//
//   - burst: docs/cni-burst.png from hack/bench-cni's CSV (BENCH_CNI_CSV):
//     CNI ADD latency p50/p99 against burst size, kubefay and the bridge CNI.
//
//   - scrape: docs/metrics-agent.png from one agent's /metrics (Prometheus
//     text): what the Grafana dashboard (build/grafana) shows for one node.
//
//     go run . -in ../../_output/scale/latency.csv -out ../../docs/scale-latency.png
//     go run . -figure burst -in ../../_output/bench-cni.csv -out ../../docs/cni-burst.png
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func main() {
	figure := flag.String("figure", "scale", "scale, burst or scrape")
	title := flag.String("title", "kubefay agent", "scrape: what was scraped (first panel's title)")
	in := flag.String("in", "_output/scale/latency.csv", "scale: nodes,pods,stream p50,stream p99,burst p50,burst p99 (ms); burst: pods,side,p50,p99 (ms)")
	out := flag.String("out", "docs/scale-latency.png", "PNG to write")
	flag.Parse()
	if *figure == "scrape" {
		scrapeFigure(*in, *out, *title)
		fmt.Println("wrote", *out)
		return
	}
	rows := readCSV(*in)
	var p *plot.Plot
	switch *figure {
	case "scale":
		p = scaleFigure(rows)
	case "burst":
		p = burstFigure(rows)
	default:
		log.Fatalf("-figure %q: want scale or burst", *figure)
	}
	p.Legend.Top = true
	if err := p.Save(8*vg.Inch, 5*vg.Inch, *out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}

func readCSV(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	return rows
}

func scaleFigure(rows [][]string) *plot.Plot {
	// the CSV collects every run: the latest one of each size counts
	latest := map[string][]string{}
	for _, r := range rows {
		latest[r[0]] = r
	}
	rows = slices.Collect(maps.Values(latest))
	sort.Slice(rows, func(i, j int) bool { return num(rows[i][0]) < num(rows[j][0]) })
	// the streaming phase only: burst latency is queueing by construction
	names := []string{"streaming p50", "streaming p99"}
	series := map[string]plotter.XYs{}
	for _, r := range rows {
		for i, n := range names {
			series[n] = append(series[n], plotter.XY{X: num(r[0]), Y: num(r[2+i])})
		}
	}
	return logLines("kubefay IPAM: allocation latency vs cluster size (kwok, 50 pods/node)",
		"nodes", "allocation latency (ms)", names, series)
}

// burstFigure: one line per side and percentile, ADD latency against the
// burst size (1 = pods one after the other).
func burstFigure(rows [][]string) *plot.Plot {
	sort.Slice(rows, func(i, j int) bool { return num(rows[i][0]) < num(rows[j][0]) })
	series := map[string]plotter.XYs{}
	var names []string
	for _, r := range rows {
		for i, pct := range []string{"p50", "p99"} {
			name := r[1] + " " + pct
			if _, ok := series[name]; !ok {
				names = append(names, name)
			}
			series[name] = append(series[name], plotter.XY{X: num(r[0]), Y: num(r[2+i])})
		}
	}
	sort.Strings(names)
	p := logLines("CNI ADD latency vs pods started at once on one node (plugin wall time)",
		"pods at once (1 = one after the other)", "ADD latency (ms)", names, series)
	p.Legend.Left = true
	return p
}

// logLines plots one line with points per name, in that order, on a
// logarithmic Y axis.
func logLines(title, x, y string, names []string, series map[string]plotter.XYs) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{}
	var args []any
	for _, n := range names {
		args = append(args, n, series[n])
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		log.Fatal(err)
	}
	return p
}

func num(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		log.Fatalf("%q: %v", s, err)
	}
	return v
}
