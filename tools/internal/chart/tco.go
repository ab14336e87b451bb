package chart

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// TCO is dollars a month against monthly token volume, each way: the
// self-hosted lines (rented, and when the experiment has them owned and
// with operations) step up by a whole replica when the volume outgrows one
// at the SLO load; an API's line is its per-token price times the volume.
// Where an API's line crosses the one-replica rent, self-hosting becomes
// the cheaper choice: those break-even volumes are marked.
type TCO struct {
	Label      string    // the self-hosted run
	Volumes    []float64 // tokens a month, ascending, all positive
	Self, APIs []TCOLine // dollars a month at each volume
	BreakEvens []BreakEven
}

// TCOLine is one option's monthly bill at each of TCO.Volumes.
type TCOLine struct {
	Label string
	USD   []float64
}

// BreakEven is the volume at which an API costs what one rented replica
// does, and that rent.
type BreakEven struct {
	Label          string
	TokensPerMonth float64
	USD            float64
}

// tcoFigure is the TCO chart, log-log: volumes and bills span decades.
func tcoFigure(s Set) *figure {
	p := newPlot()
	f := newFigure(title(s, "dollars a month vs monthly tokens, self-hosted vs API"), "tokens a month (input+output, log scale)", "USD a month (log scale)", p)
	t := s.TCO
	if t == nil || len(t.Volumes) == 0 {
		return f.empty("no monthly costs: no level met the SLO, or no cost.json")
	}
	p.Add(gridLines(true, true))
	lo, hi := math.Inf(1), math.Inf(-1)
	line := func(l TCOLine, i int, dash bool) {
		var xys plotter.XYs
		for j, v := range t.Volumes {
			if j < len(l.USD) && finite(l.USD[j]) && l.USD[j] > 0 && v > 0 {
				xys = append(xys, plotter.XY{X: v, Y: l.USD[j]})
				lo, hi = math.Min(lo, l.USD[j]), math.Max(hi, l.USD[j])
			}
		}
		if len(xys) > 0 {
			addLine(f, xys, l.Label, lineStyle(i, false, dash), glyphStyle(i, false))
		}
	}
	for i, l := range t.Self {
		line(l, 0, i > 0)
	}
	for i, l := range t.APIs {
		line(l, i+1, false)
	}
	var marks plotter.XYs
	for _, b := range t.BreakEvens {
		if finite(b.TokensPerMonth) && b.TokensPerMonth > 0 && finite(b.USD) && b.USD > 0 {
			marks = append(marks, plotter.XY{X: b.TokensPerMonth, Y: b.USD})
		}
	}
	if len(marks) > 0 {
		sc := &plotter.Scatter{XYs: marks, GlyphStyle: draw.GlyphStyle{Color: sloColor, Radius: vg.Points(4.5), Shape: draw.RingGlyph{}}}
		p.Add(sc)
		f.addLegend("break-even: self-hosting cheaper to the right", sc)
	}
	if f.nLegend == 0 || math.IsInf(lo, 1) {
		return f.empty("no monthly costs to draw")
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = volumeTicks{}, logTicks{}
	xlo, xhi := t.Volumes[0], t.Volumes[len(t.Volumes)-1]
	for _, m := range marks {
		xlo, xhi = math.Min(xlo, m.X), math.Max(xhi, m.X)
	}
	p.X.Min, p.X.Max = xlo/1.25, xhi*1.25
	p.Y.Min, p.Y.Max = lo/1.5, hi*1.5
	return f
}

// volumeTicks labels each power of ten of a token volume as people say it
// (1M, 10M, 1B), with unlabelled ticks between: logTicks' 1-2-5 labels of
// numbers this long run into each other.
type volumeTicks struct{}

// Ticks implements plot.Ticker.
func (volumeTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for _, t := range (logTicks{}).Ticks(min, max) {
		t.Label = ""
		if e := math.Log10(t.Value); e == math.Trunc(e) {
			t.Label = formatVolume(t.Value)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// formatVolume writes a token count with k, M, B or T.
func formatVolume(v float64) string {
	for _, u := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if v >= u.div {
			return formatNum(v/u.div) + u.suffix
		}
	}
	return formatNum(v)
}
