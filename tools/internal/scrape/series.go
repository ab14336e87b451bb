package scrape

import (
	"math"
	"slices"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// series is one family across a level's snapshots: series[i] maps a label
// set's signature to its metric in snapshot i (nil where the snapshot lacks
// the family or has it with another type).
type series []map[string]*dto.Metric

// seriesOf collects family name of type typ across seq.
func seriesOf(seq []Snapshot, name string, typ dto.MetricType) series {
	out := make(series, len(seq))
	for i, s := range seq {
		mf, ok := s.Families[name]
		if !ok || mf.GetType() != typ {
			continue
		}
		out[i] = make(map[string]*dto.Metric, len(mf.GetMetric()))
		for _, m := range mf.GetMetric() {
			out[i][signature(m)] = m
		}
	}
	return out
}

// signature identifies a label set independently of label order.
func signature(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		pairs = append(pairs, lp.GetName()+"\x00"+lp.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "\xff")
}

// keys lists every label set seen, sorted, so sums are added in a fixed order
// and a View is reproducible to the last bit.
func (s series) keys() []string {
	seen := map[string]bool{}
	for _, snap := range s {
		for k := range snap {
			seen[k] = true
		}
	}
	ks := make([]string, 0, len(seen))
	for k := range seen {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// counterValue reads a counter; a negative one is invalid and skipped.
func counterValue(m *dto.Metric) (float64, bool) {
	v := m.GetCounter().GetValue()
	return v, m.GetCounter() != nil && v >= 0
}

func summarySum(m *dto.Metric) (float64, bool) {
	return m.GetSummary().GetSampleSum(), m.GetSummary() != nil
}

func summaryCount(m *dto.Metric) (float64, bool) {
	return float64(m.GetSummary().GetSampleCount()), m.GetSummary() != nil
}

func gaugeValue(m *dto.Metric) (float64, bool) {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

// increase sums, over label sets, the increase of val along the snapshots,
// reading a drop as a reset (see Diff). It reports whether any reset was seen.
func increase(s series, val func(*dto.Metric) (float64, bool)) (total float64, reset bool) {
	for _, k := range s.keys() {
		var prev float64
		have := false
		for i, snap := range s {
			m, ok := snap[k]
			if !ok {
				continue
			}
			x, ok := val(m)
			if !ok || !finite(x) {
				continue
			}
			switch {
			case !have && i == 0: // the baseline
			case !have: // appeared during the level: counts from zero
				total += x
			case x >= prev:
				total += x - prev
			default:
				total += x
				reset = true
			}
			prev, have = x, true
		}
	}
	return total, reset
}

// gaugeSeries is the per-snapshot sum over label sets of a gauge (or untyped)
// family, n values long; missing or non-finite values add nothing.
func gaugeSeries(s series, n int) []float64 {
	out := make([]float64, n)
	keys := s.keys()
	for i, snap := range s {
		sum := 0.0
		for _, k := range keys {
			if m, ok := snap[k]; ok {
				if x, ok := gaugeValue(m); ok && finite(x) {
					sum += x
				}
			}
		}
		if finite(sum) {
			out[i] = sum
		}
	}
	return out
}

// histPoint is one histogram series in one snapshot: finite bucket bounds in
// ascending order with their cumulative counts, plus the total count and sum.
type histPoint struct {
	les, cum   []float64
	count, sum float64
}

func histPointOf(m *dto.Metric) (histPoint, bool) {
	h := m.GetHistogram()
	if h == nil {
		return histPoint{}, false
	}
	p := histPoint{count: float64(h.GetSampleCount()), sum: h.GetSampleSum()}
	if h.SampleCountFloat != nil {
		p.count = h.GetSampleCountFloat()
	}
	bs := slices.Clone(h.GetBucket())
	slices.SortStableFunc(bs, func(a, b *dto.Bucket) int {
		return cmpFloat(a.GetUpperBound(), b.GetUpperBound())
	})
	for _, b := range bs {
		le := b.GetUpperBound()
		if math.IsInf(le, +1) {
			continue // Count holds it
		}
		c := float64(b.GetCumulativeCount())
		if b.CumulativeCountFloat != nil {
			c = b.GetCumulativeCountFloat()
		}
		if !finite(le) || !finite(c) || (len(p.les) > 0 && le == p.les[len(p.les)-1]) {
			return histPoint{}, false
		}
		p.les = append(p.les, le)
		p.cum = append(p.cum, c)
	}
	return p, finite(p.count) && finite(p.sum)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isReset reports whether cur cannot have grown from prev: a count went down,
// or the bucket layout changed (another server answered).
func isReset(prev, cur histPoint) bool {
	if !slices.Equal(prev.les, cur.les) || cur.count < prev.count {
		return true
	}
	for i := range cur.cum {
		if cur.cum[i] < prev.cum[i] {
			return true
		}
	}
	return false
}
