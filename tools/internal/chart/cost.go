package chart

import (
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Cost chart layout, in category-axis data units: each bar is one unit tall and
// groups (one per self-hosted run, then all APIs) are separated by groupGap.
const (
	barHalf  = 0.36
	groupGap = 0.6
)

// costFigure draws horizontal bars, one per run and utilization and one per
// API, top to bottom in the order given. Horizontal, because the run labels
// ("twin_bf16 · BF16 @ 100 %") are long and must stay readable; the dollar value
// is printed at the end of every bar because that number is what a reader
// compares, and a long bar next to a short one hides the short one's value.
func costFigure(s Set) *figure {
	p := newPlot()
	f := newFigure(title(s, "cost per 1M tokens, self-hosted vs commercial API"), "USD per 1M tokens (input+output)", "", p)
	p.Add(gridLines(false, true))

	// One bars plotter per colour: a utilization level, or the APIs.
	var utils []float64
	for _, c := range s.Costs {
		for _, u := range c.ByUtil {
			if !slices.Contains(utils, u.Utilization) {
				utils = append(utils, u.Utilization)
			}
		}
	}
	self := make([]*bars, len(utils))
	for i := range utils {
		self[i] = newCostBars(utilColors[min(i, len(utilColors)-1)])
	}
	api := newCostBars(apiColor)

	var ticks []plot.Tick
	pos, vmax := 0.0, 0.0
	add := func(b *bars, tick string, usd float64) {
		br := bar{pos: pos, half: barHalf, value: usd, label: formatUSD(usd)}
		if !finite(usd) {
			br.value, br.label = 0, "n/a"
		}
		b.bars = append(b.bars, br)
		ticks = append(ticks, plot.Tick{Value: pos, Label: tick})
		vmax = math.Max(vmax, br.value)
		pos--
	}
	for i, c := range s.Costs {
		label := c.Label
		if label == "" {
			label = "run " + formatNum(float64(i+1))
		}
		for j, u := range c.ByUtil {
			tick := "@ " + formatPercent(u.Utilization)
			if j == 0 {
				tick = label + " " + tick
			}
			add(self[slices.Index(utils, u.Utilization)], tick, u.USDPer1M)
		}
		pos -= groupGap
	}
	for _, a := range s.APIs {
		add(api, a.Label, a.USDPer1M)
	}

	if len(ticks) == 0 {
		return f.empty("no cost data")
	}
	for i, b := range self {
		if len(b.bars) > 0 {
			p.Add(b)
			f.addLegend("self-hosted @ "+formatPercent(utils[i]), b)
		}
	}
	if len(api.bars) > 0 {
		p.Add(api)
		f.addLegend("commercial API", api)
	}

	// Categories read top to bottom; no tick marks or axis line on that side,
	// as in gonum's NominalY.
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Length, p.Y.Width = 0, 0
	// Rows keep roughly the height they would have among four, so a lone bar
	// does not fill the chart; the rows stay at the top, under the title.
	p.Y.Min, p.Y.Max = math.Min(ticks[len(ticks)-1].Value, -3)-0.6, 0.6
	p.X.Min, p.X.Max = 0, niceTop(vmax)
	return f
}

func newCostBars(fill color.Color) *bars {
	return &bars{
		horizontal: true,
		fill:       fill,
		outline:    draw.LineStyle{Color: inkColor, Width: vg.Points(0.5)},
		labelStyle: textStyle(valueSize, text.XLeft, text.YCenter),
	}
}
