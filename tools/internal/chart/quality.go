package chart

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// z95 turns a standard error into the half-width of a 95 % normal interval.
const z95 = 1.96

// Quality chart layout in X data units: task i is centred on x = i, its two
// bars sit qualityOffset either side.
const (
	qualityOffset = 0.2
	qualityHalf   = 0.18
)

// estDataWidth is about how wide the data area is: the canvas less the y
// axis and a typical legend column.
const estDataWidth = 5 * vg.Inch

// qualityFigure draws, per task, the baseline and quantized scores side by side
// with 95 % error bars, and the retention (quant/baseline) above the pair,
// because retention with its interval is the number the decision rests on and
// the bars show where it comes from.
func qualityFigure(s Set) *figure {
	p := newPlot()
	f := newFigure(title(s, "quality, baseline vs quantized"), "", "score (higher is better)", p)
	if len(s.Tasks) == 0 {
		note := "no eval run"
		if r := strings.TrimSpace(s.NoEvalReason); r != "" {
			sty := textStyle(noteSize, text.XCenter, text.YCenter)
			note += "\n" + strings.Join(wrap(sty, r, 5*vg.Inch), "\n")
		}
		return f.empty(note)
	}
	p.Add(gridLines(true, false))

	// Labels are fitted to an estimate of each task's width, since gonum lays
	// out the plot only when drawing. A task gets at least a third of the data
	// width (see the X range below).
	groupW := estDataWidth / vg.Length(math.Max(float64(len(s.Tasks)), 3))
	base := newScoreBars(baseColor)
	quant := newScoreBars(quantColor)
	scoreSty, showScores := fitScoreLabels(base.labelStyle, groupW)
	base.labelStyle, quant.labelStyle = scoreSty, scoreSty
	retSty := textStyle(valueSize+1, text.XCenter, text.YBottom)
	// Retention sits above the taller bar's score label.
	retOffset := vg.Point{Y: vg.Points(2 * labelGap)}
	if showScores {
		retOffset.Y += scoreSty.Height("0")
	}

	var ticks []plot.Tick
	var notes []plot.Plotter
	top, anyErr := 0.0, false
	for i, t := range s.Tasks {
		x := float64(i)
		b := scoreBar(x-qualityOffset, t.Baseline, t.BaselineErr)
		q := scoreBar(x+qualityOffset, t.Quant, t.QuantErr)
		if !showScores {
			b.label, q.label = "", ""
		}
		base.bars = append(base.bars, b)
		quant.bars = append(quant.bars, q)
		anyErr = anyErr || b.err > 0 || q.err > 0
		groupTop := math.Max(b.value+b.err, q.value+q.err)
		top = math.Max(top, groupTop)

		ret := fitLines(retSty, retentionLayouts(t), groupW*0.95)
		notes = append(notes, &annotation{x: x, y: groupTop, offset: retOffset, text: ret, style: retSty})
		ticks = append(ticks, plot.Tick{Value: x, Label: taskLabel(p.X.Tick.Label, t.Name, i, groupW*0.95)})
	}
	p.Add(base, quant)
	p.Add(notes...)

	bl, ql := pairLabels(s.Tasks)
	f.addLegend(bl, base)
	f.addLegend(ql, quant)
	if anyErr {
		f.addLegend("95 % CI (±1.96 × SE)", errThumb{style: base.errStyle})
	}

	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Length = 0
	// At least three tasks' worth of width, so one or two tasks do not become
	// slabs filling the chart.
	span := math.Max(float64(len(s.Tasks)), 3) - 0.1
	mid := float64(len(s.Tasks)-1) / 2
	p.X.Min, p.X.Max = mid-span/2, mid+span/2
	// Scores are usually fractions; a 0–1 axis shows how far from perfect they
	// are. Other scales get headroom instead.
	p.Y.Min, p.Y.Max = 0, 1
	if top > 1 {
		p.Y.Max = niceTop(top)
	}
	return f
}

func newScoreBars(fill color.Color) *bars {
	return &bars{
		fill:       fill,
		outline:    draw.LineStyle{Color: inkColor, Width: vg.Points(0.5)},
		errStyle:   draw.LineStyle{Color: ciLineColor, Width: vg.Points(1)},
		labelStyle: textStyle(valueSize, text.XCenter, text.YBottom),
	}
}

// scoreBar is one score with its 95 % error bar, labelled with the score.
func scoreBar(pos, score float64, stderr *float64) bar {
	b := bar{pos: pos, half: qualityHalf, value: score, label: formatScore(score)}
	if !finite(score) {
		b.value, b.label = 0, "n/a"
		return b
	}
	if stderr != nil && finite(*stderr) && *stderr > 0 {
		b.err = z95 * *stderr
	}
	return b
}

// formatScore prints fractions to three decimals, larger scores to one.
func formatScore(v float64) string {
	if math.Abs(v) <= 1 {
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// retentionLayouts is the retention text, "retention 98.7 % [96.1, 101.3]", on
// one, two or three lines, for fitLines to choose from. The interval is left
// out when either end is unknown.
func retentionLayouts(t Task) []string {
	if !finite(t.Retention) {
		return []string{"retention n/a"}
	}
	r := pct1(t.Retention) + " %"
	lo, hi := t.RetentionLow, t.RetentionHigh
	if lo == nil || hi == nil || !finite(*lo) || !finite(*hi) {
		return []string{"retention " + r, "retention\n" + r}
	}
	ci := "[" + pct1(*lo) + ", " + pct1(*hi) + "]"
	return []string{"retention " + r + " " + ci, "retention " + r + "\n" + ci, "retention\n" + r + "\n" + ci}
}

// fitLines returns the first layout whose widest line fits width, or the last.
func fitLines(sty text.Style, layouts []string, width vg.Length) string {
	for _, l := range layouts {
		if sty.Width(l) <= width {
			return l
		}
	}
	return layouts[len(layouts)-1]
}

// fitScoreLabels picks a font size at which the two score labels of a task
// ("0.842" over each bar) do not touch, and reports false when none does: the
// scores can then be read off the axis, and retention stays legible.
func fitScoreLabels(sty text.Style, groupW vg.Length) (text.Style, bool) {
	room := vg.Length(2*qualityOffset)*groupW - vg.Points(3)
	for _, size := range []float64{valueSize, valueSize - 1} {
		sty.Font = font.From(sty.Font, vg.Points(size))
		if sty.Width("0.000") <= room {
			return sty, true
		}
	}
	return sty, false
}

func pct1(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) }

// taskLabel puts a task's qualifier in parentheses on its own line, so
// "gsm8k (5-shot, exact_match)" takes two short lines instead of one long one
// that collides with its neighbour, and wraps any line wider than width.
func taskLabel(sty text.Style, name string, i int, width vg.Length) string {
	if name == "" {
		return "task " + formatNum(float64(i+1))
	}
	parts := []string{name}
	if k := strings.Index(name, " ("); k > 0 {
		parts = []string{name[:k], name[k+1:]}
	}
	var lines []string
	for _, part := range parts {
		lines = append(lines, wrap(sty, part, width)...)
	}
	return strings.Join(lines, "\n")
}

// pairLabels names the two bar colours. Tasks normally share one baseline and
// one quantized model; if they disagree, generic names avoid a misleading legend.
func pairLabels(tasks []Task) (string, string) {
	bl, ql := tasks[0].BaselineLabel, tasks[0].QuantLabel
	for _, t := range tasks[1:] {
		if t.BaselineLabel != bl {
			bl = ""
		}
		if t.QuantLabel != ql {
			ql = ""
		}
	}
	if bl == "" {
		bl = "baseline"
	}
	if ql == "" {
		ql = "quantized"
	}
	return bl, ql
}
