package chart

import (
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Line styles for the load-level charts.
//
// Colour and glyph shape identify the series. Measured series are drawn with
// thick lines and filled glyphs; predicted series (twin model output) with thin
// lines and hollow glyphs, so a prediction never passes for a measurement even
// in greyscale. On the throughput chart predicted lines are also dashed. On the
// latency charts the dash already means p99 (p50 solid, p99 dashed), so there
// the thin line and hollow glyphs alone mark a prediction.
var (
	dashed      = []vg.Length{vg.Points(6), vg.Points(3)}
	sloDashes   = []vg.Length{vg.Points(9), vg.Points(3), vg.Points(2), vg.Points(3)}
	glyphRadius = vg.Points(3.5)
)

// slots assigns each series its colour and glyph slot. A prediction whose label
// is a measured series' label plus " (predicted)" shares that series' slot, so
// prediction and measurement of one run read as a pair (same colour, hollow
// versus filled glyphs); other series get the next free slot.
func slots(series []Series) []int {
	out := make([]int, len(series))
	byLabel := map[string]int{}
	next := 0
	for i, s := range series {
		if !s.Predicted && s.Label != "" {
			if _, dup := byLabel[s.Label]; !dup {
				byLabel[s.Label] = next
				out[i] = next
				next++
				continue
			}
		}
		out[i] = -1
	}
	for i, s := range series {
		if out[i] >= 0 {
			continue
		}
		if k, ok := byLabel[strings.TrimSuffix(s.Label, " (predicted)")]; ok && s.Predicted {
			out[i] = k
			continue
		}
		out[i] = next
		next++
	}
	return out
}

func lineStyle(i int, predicted, dash bool) draw.LineStyle {
	sty := draw.LineStyle{Color: seriesColor(i), Width: vg.Points(1.8)}
	if predicted {
		sty.Width = vg.Points(1.1)
	}
	if dash {
		sty.Dashes = dashed
	}
	return sty
}

func glyphStyle(i int, predicted bool) draw.GlyphStyle {
	return draw.GlyphStyle{Color: seriesColor(i), Radius: glyphRadius, Shape: marker{shape: i, hollow: predicted}}
}

// title joins the set's title and what this chart shows.
func title(s Set, what string) string {
	if s.Title == "" {
		return what
	}
	return s.Title + " — " + what
}

func seriesLabel(s Series, i int) string {
	if s.Label != "" {
		return s.Label
	}
	return "series " + formatNum(float64(i+1))
}

// levelXYs collects (X, value) for the points where value is present and both
// coordinates can be drawn on the chosen axes.
func levelXYs(s Series, ax levelAxis, value func(Point) *float64, logY bool) plotter.XYs {
	var xys plotter.XYs
	for _, p := range s.Points {
		v := value(p)
		if v == nil || !finite(*v) || !ax.usable(p.X) || (logY && *v <= 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: p.X, Y: *v})
	}
	return xys
}

// addLine adds a line with glyphs and its legend entry.
func addLine(f *figure, xys plotter.XYs, label string, ls draw.LineStyle, gs draw.GlyphStyle) {
	l := &plotter.Line{XYs: xys, LineStyle: ls}
	sc := &plotter.Scatter{XYs: xys, GlyphStyle: gs}
	f.plot.Add(l, sc)
	f.addLegend(label, l, sc)
}

func throughputFigure(s Set) *figure {
	ax := newLevelAxis(s.Series)
	p := newPlot()
	f := newFigure(title(s, "output throughput vs "+xWord(s.XLabel)), s.XLabel, "output throughput (tokens/s)", p)
	p.Add(gridLines(true, false))
	ymax := 0.0
	slot := slots(s.Series)
	for i, sr := range s.Series {
		tps := func(p Point) *float64 { return &p.OutputTPS }
		xys := levelXYs(sr, ax, tps, false)
		if len(xys) == 0 {
			continue
		}
		for _, xy := range xys {
			ymax = math.Max(ymax, xy.Y)
		}
		addLine(f, xys, seriesLabel(sr, i), lineStyle(slot[i], sr.Predicted, sr.Predicted), glyphStyle(slot[i], sr.Predicted))
	}
	if f.nLegend == 0 {
		return f.empty("no data")
	}
	// Throughput starts at zero: the gap between runs is the message, and a
	// truncated axis exaggerates it.
	p.Y.Min, p.Y.Max = 0, niceTop(ymax)
	ax.apply(f)
	return f
}

func ttftFigure(s Set) *figure {
	return latencyFigure(s, "time to first token", "TTFT",
		func(p Point) *float64 { return p.TTFTP50Ms },
		func(p Point) *float64 { return p.TTFTP99Ms },
		s.SLO.TTFTP99Ms)
}

func tpotFigure(s Set) *figure {
	return latencyFigure(s, "time per output token", "TPOT",
		func(p Point) *float64 { return p.TPOTP50Ms },
		func(p Point) *float64 { return p.TPOTP99Ms },
		s.SLO.TPOTP99Ms)
}

// latencyFigure draws p50 and p99 of one latency metric per series, and the p99
// SLO as a reference line.
func latencyFigure(s Set, what, short string, p50, p99 func(Point) *float64, slo *float64) *figure {
	ax := newLevelAxis(s.Series)
	if slo != nil && (!finite(*slo) || *slo <= 0) {
		slo = nil
	}
	logY, lo, hi := latencyRange(s.Series, p50, p99, slo)
	yLabel := what + " (ms)"
	if logY {
		yLabel = what + " (ms, log scale)"
	}
	p := newPlot()
	f := newFigure(title(s, short+" p50 and p99 vs "+xWord(s.XLabel)), s.XLabel, yLabel, p)
	p.Add(gridLines(true, false))
	slot := slots(s.Series)
	for i, sr := range s.Series {
		label := seriesLabel(sr, i)
		for _, q := range []struct {
			name  string
			value func(Point) *float64
			dash  bool
		}{{"p50", p50, false}, {"p99", p99, true}} {
			xys := levelXYs(sr, ax, q.value, logY)
			if len(xys) == 0 {
				continue
			}
			addLine(f, xys, label+" "+q.name, lineStyle(slot[i], sr.Predicted, q.dash), glyphStyle(slot[i], sr.Predicted))
		}
	}
	if f.nLegend == 0 {
		return f.empty("no " + short + " data")
	}
	if slo != nil {
		h := &hline{y: *slo, style: draw.LineStyle{Color: sloColor, Width: vg.Points(1.2), Dashes: sloDashes}}
		p.Add(h)
		f.addLegend("SLO p99 ≤ "+formatNum(*slo)+" ms", h)
	}
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Min, p.Y.Max = lo/1.25, hi*1.25
	} else {
		p.Y.Min, p.Y.Max = 0, niceTop(hi)
	}
	ax.apply(f)
	return f
}

// latencyRange finds the Y extent of the drawable latencies and the SLO, and
// chooses a log axis when the positive values span more than two decades:
// otherwise a 20 ms p50 next to a 5 s p99 is a flat line on the floor.
func latencyRange(series []Series, p50, p99 func(Point) *float64, slo *float64) (logY bool, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	note := func(v float64) {
		if finite(v) && v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for _, s := range series {
		for _, p := range s.Points {
			for _, v := range []*float64{p50(p), p99(p)} {
				if v != nil {
					note(*v)
				}
			}
		}
	}
	if slo != nil {
		note(*slo)
	}
	if math.IsInf(lo, 1) {
		return false, 0, 1
	}
	return hi/lo > 100, lo, hi
}

// niceTop leaves headroom above the highest value so the top glyph does not sit
// on the frame.
func niceTop(v float64) float64 {
	if v <= 0 || !finite(v) {
		return 1
	}
	return v * 1.08
}
