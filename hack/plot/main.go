// Command plot draws docs/scale-latency.png from the lines hack/bench-scale
// collects (test/integration/scale, KUBEFAY_SCALE_CSV): allocation latency
// p50/p99 against cluster size. A module of its own, so that kubefay's
// go.mod does not carry gonum.
//
//	go run . -in ../../_output/scale/latency.csv -out ../../docs/scale-latency.png
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

func main() {
	in := flag.String("in", "_output/scale/latency.csv", "nodes,pods,stream p50,stream p99,burst p50,burst p99 (ms)")
	out := flag.String("out", "docs/scale-latency.png", "PNG to write")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return num(rows[i][0]) < num(rows[j][0]) })
	// the streaming phase only: burst latency is queueing by construction
	names := []string{"streaming p50", "streaming p99"}
	series := make([]plotter.XYs, len(names))
	for _, r := range rows {
		for i := range names {
			series[i] = append(series[i], plotter.XY{X: num(r[0]), Y: num(r[2+i])})
		}
	}
	p := plot.New()
	p.Title.Text = "kubefay IPAM: allocation latency vs cluster size (kwok, 50 pods/node)"
	p.X.Label.Text = "nodes"
	p.Y.Label.Text = "allocation latency (ms)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{}
	var args []any
	for i, n := range names {
		args = append(args, n, series[i])
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		log.Fatal(err)
	}
	p.Legend.Top = true
	if err := p.Save(8*vg.Inch, 5*vg.Inch, *out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}

func num(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		log.Fatalf("%q: %v", s, err)
	}
	return v
}
