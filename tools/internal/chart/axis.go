package chart

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// levelAxis decides how the load-level axis (concurrency or request rate) is
// drawn, once for all three line charts so they line up.
//
// Sweeps are usually geometric (1, 2, 4 … 256 requests in flight); on a linear
// axis all but the last few levels crowd against the origin. When the levels are
// powers of two, or span more than a decade, the axis is logarithmic. Either way
// the ticks sit exactly on the measured levels, since those are the only X values
// a reader can look up in the results.
type levelAxis struct {
	values   []float64 // distinct finite levels, ascending
	log      bool
	min, max float64
}

func newLevelAxis(series []Series) levelAxis {
	var vs []float64
	for _, s := range series {
		for _, p := range s.Points {
			if finite(p.X) {
				vs = append(vs, p.X)
			}
		}
	}
	slices.Sort(vs)
	vs = slices.Compact(vs)
	a := levelAxis{values: vs}
	if len(vs) == 0 {
		return a
	}
	lo, hi := vs[0], vs[len(vs)-1]
	a.log = len(vs) >= 2 && lo > 0 && (allPowersOfTwo(vs) || hi/lo > 10)
	a.min, a.max = lo, hi
	if !a.log {
		// Keep the end levels' glyphs and tick labels off the axis ends.
		pad := (hi - lo) * 0.03
		a.min, a.max = lo-pad, hi+pad
	}
	if lo == hi {
		// One level: centre it; sanitizeRange's ±1 would put a tick at 0.
		pad := math.Max(math.Abs(lo)*0.5, 1)
		a.min, a.max = lo-pad, hi+pad
	}
	return a
}

func allPowersOfTwo(vs []float64) bool {
	for _, v := range vs {
		if v <= 0 || math.Exp2(math.Round(math.Log2(v))) != v {
			return false
		}
	}
	return true
}

// usable reports whether x can be placed on the axis (log axes have no place
// for zero or negative levels).
func (a levelAxis) usable(x float64) bool {
	return finite(x) && (!a.log || x > 0)
}

// apply configures f's X axis and its label. Call it after adding plotters,
// whose DataRange would otherwise widen the range.
func (a levelAxis) apply(f *figure) {
	if len(a.values) == 0 {
		return
	}
	p := f.plot
	p.X.Min, p.X.Max = a.min, a.max
	if a.log {
		p.X.Scale = plot.LogScale{}
		f.xLabel += " · log scale"
	}
	p.X.Tick.Marker = valueTicks{values: a.values, scale: p.X.Scale}
}

// minLabelGap is the least distance, as a fraction of the axis, between two
// labelled ticks; closer levels keep their tick mark but lose the label so
// numbers never overprint.
const minLabelGap = 0.045

// valueTicks puts a tick at each given value. A linear axis with more levels than
// can be labelled legibly falls back to round steps.
type valueTicks struct {
	values []float64
	scale  plot.Normalizer
}

// Ticks implements plot.Ticker.
func (t valueTicks) Ticks(min, max float64) []plot.Tick {
	if _, lin := t.scale.(plot.LinearScale); lin && len(t.values) > 15 {
		return niceTicks{}.Ticks(min, max)
	}
	var ticks []plot.Tick
	last := math.Inf(-1)
	for _, v := range t.values {
		if v < min || v > max {
			continue
		}
		n := t.scale.Normalize(min, max, v)
		tk := plot.Tick{Value: v}
		if n-last >= minLabelGap {
			tk.Label = formatNum(v)
			last = n
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// niceTicks labels round steps (1, 2, 2.5 or 5 times a power of ten) giving
// about seven ticks, for value axes. gonum's default often gives three, which
// makes values hard to read off.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	if !finite(span) || span <= 0 {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	raw := span / 7
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	decimals := 0
	for d := step; math.Abs(d-math.Round(d)) > 1e-9*d && decimals < 10; d *= 10 {
		decimals++
	}
	var ticks []plot.Tick
	for i := math.Ceil(min / step); i*step <= max+step*1e-9; i++ {
		v := i * step
		if v == 0 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
	}
	return ticks
}

// logTicks labels 1-2-5 steps of each decade between min and max, with
// unlabelled minor ticks at the other integers. gonum's LogTicks labels only
// powers of ten, which leaves a two-decade latency axis with three numbers.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return nil
	}
	var ticks []plot.Tick
	for d := math.Pow10(int(math.Floor(math.Log10(min)))); d <= max; d *= 10 {
		for i := 1; i <= 9; i++ {
			v := float64(i) * d
			if v < min || v > max {
				continue
			}
			tk := plot.Tick{Value: v}
			if i == 1 || i == 2 || i == 5 {
				tk.Label = formatNum(v)
			}
			ticks = append(ticks, tk)
		}
	}
	return ticks
}

// xWord is the short name of the X quantity for titles: "concurrency" from
// "concurrency (requests in flight)".
func xWord(xLabel string) string {
	before, _, _ := strings.Cut(xLabel, "(")
	if w := strings.TrimSpace(before); w != "" {
		return w
	}
	return "load level"
}
