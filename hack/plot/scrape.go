package main

import (
	"bufio"
	"log"
	"math"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// sample is one line of a Prometheus text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (\S+)`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"`)

func readScrape(path string) []sample {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			continue
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[3], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// pick returns name's samples whose labels include want.
func pick(ss []sample, name string, want map[string]string) []sample {
	var out []sample
next:
	for _, s := range ss {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// scrapeFigure draws four panels from one agent's /metrics scrape (what the
// Grafana dashboard shows for one node): CNI ADD latency distribution, mean
// time per ADD phase, flows per table, and mean sync duration per loop.
func scrapeFigure(path, out, title string) {
	ss := readScrape(path)
	panels := []*plot.Plot{addHistogram(ss), barPanel("mean time per CNI ADD phase (ms)", meansBy(ss, "kubefay_cni_add_phase_duration_seconds", "phase", 1000)),
		barPanel("flows per table (br-int)", sumBy(ss, "kubefay_flows", "table")), barPanel("mean sync duration per loop (ms)", meansBy(ss, "kubefay_sync_duration_seconds", "loop", 1000))}
	panels[0].Title.Text = title + "\n" + panels[0].Title.Text
	const cols, rows = 2, 2
	img := vgimg.New(12*vg.Inch, 8*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Inch / 3, PadY: vg.Inch / 3, PadTop: vg.Inch / 6, PadBottom: vg.Inch / 6, PadLeft: vg.Inch / 6, PadRight: vg.Inch / 6}
	grid := [][]*plot.Plot{{panels[0], panels[1]}, {panels[2], panels[3]}}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			grid[r][c].Draw(canvases[r][c])
		}
	}
	f, err := os.Create(out)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		log.Fatal(err)
	}
}

// addHistogram: pods per latency bucket of kubefay_cni_request_duration_seconds{command="ADD"}.
func addHistogram(ss []sample) *plot.Plot {
	buckets := pick(ss, "kubefay_cni_request_duration_seconds_bucket", map[string]string{"command": "ADD"})
	sort.Slice(buckets, func(i, j int) bool { return le(buckets[i]) < le(buckets[j]) })
	var names []string
	var counts plotter.Values
	prev := 0.0
	for _, b := range buckets {
		if math.IsInf(le(b), 1) {
			continue
		}
		names = append(names, "≤"+strconv.FormatFloat(le(b)*1000, 'f', -1, 64))
		counts = append(counts, b.value-prev)
		prev = b.value
	}
	p := barPlot("CNI ADD requests per latency bucket (ms)", names, counts)
	p.Y.Label.Text = "ADDs"
	return p
}

func le(s sample) float64 {
	v, err := strconv.ParseFloat(s.labels["le"], 64)
	if err != nil {
		return math.Inf(1)
	}
	return v
}

type labelled struct {
	names  []string
	values plotter.Values
}

// meansBy: sum/count of a histogram per value of label, times scale.
func meansBy(ss []sample, hist, label string, scale float64) labelled {
	sums, counts := map[string]float64{}, map[string]float64{}
	for _, s := range pick(ss, hist+"_sum", nil) {
		sums[s.labels[label]] += s.value
	}
	for _, s := range pick(ss, hist+"_count", nil) {
		counts[s.labels[label]] += s.value
	}
	var out labelled
	for _, k := range sortedKeys(sums) {
		if counts[k] > 0 {
			out.names = append(out.names, k)
			out.values = append(out.values, sums[k]/counts[k]*scale)
		}
	}
	return out
}

// sumBy: a gauge summed per value of label.
func sumBy(ss []sample, name, label string) labelled {
	sums := map[string]float64{}
	for _, s := range pick(ss, name, nil) {
		sums[s.labels[label]] += s.value
	}
	var out labelled
	for _, k := range sortedKeys(sums) {
		out.names = append(out.names, k)
		out.values = append(out.values, sums[k])
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func barPanel(title string, l labelled) *plot.Plot { return barPlot(title, l.names, l.values) }

func barPlot(title string, names []string, values plotter.Values) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	if len(values) == 0 {
		p.Title.Text += " (no samples)"
		return p
	}
	bars, err := plotter.NewBarChart(values, vg.Points(14))
	if err != nil {
		log.Fatal(err)
	}
	p.Add(bars)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	if strings.Contains(title, "(ms)") {
		p.Y.Label.Text = "ms"
	}
	return p
}
