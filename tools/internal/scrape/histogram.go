package scrape

import (
	"math"
	"slices"
	"sort"
)

// histDelta accumulates one label set's histogram increase over a level.
type histDelta struct {
	les, cum   []float64 // nil until the series is first seen
	count, sum float64
}

// add adds cur − prev (all of cur when prev is nil). The layout kept is the
// bounds both have, so a layout change can only drop bounds, never mix them.
func (d *histDelta) add(cur histPoint, prev *histPoint) {
	at := func(p histPoint, le float64) float64 {
		i, _ := slices.BinarySearch(p.les, le)
		return p.cum[i]
	}
	les := intersect(d.les, cur.les)
	cum := make([]float64, len(les))
	for i, le := range les {
		j, _ := slices.BinarySearch(d.les, le)
		cum[i] = d.cum[j] + at(cur, le)
		if prev != nil {
			cum[i] -= at(*prev, le)
		}
	}
	d.les, d.cum = les, cum
	d.count += cur.count
	d.sum += cur.sum
	if prev != nil {
		d.count -= prev.count
		d.sum -= prev.sum
	}
}

// intersect returns the values present in both ascending slices.
func intersect(a, b []float64) []float64 {
	out := []float64{}
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			out = append(out, x)
		}
	}
	return out
}

// histogramIncrease is the level's delta histogram summed over label sets,
// with Diff's reset rule applied per label set. Label sets are summed on the
// bounds they all share, which keeps every cumulative count exact.
func histogramIncrease(s series) (Histogram, bool) {
	var total *histDelta
	reset := false
	for _, k := range s.keys() {
		var d *histDelta
		var prev *histPoint
		for i, snap := range s {
			m, ok := snap[k]
			if !ok {
				continue
			}
			cur, ok := histPointOf(m)
			if !ok {
				continue
			}
			if d == nil {
				// Start from the layout with zero counts, so a series
				// that saw nothing still reports its buckets.
				d = &histDelta{les: cur.les, cum: make([]float64, len(cur.les))}
			}
			switch {
			case prev == nil && i == 0: // the baseline
			case prev == nil:
				d.add(cur, nil)
			case isReset(*prev, cur):
				d.add(cur, nil)
				reset = true
			default:
				d.add(cur, prev)
			}
			prev = &cur
		}
		if d == nil {
			continue
		}
		if total == nil {
			total = &histDelta{les: d.les, cum: make([]float64, len(d.les))}
		}
		total.add(histPoint{les: d.les, cum: d.cum, count: d.count, sum: d.sum}, nil)
	}
	h := Histogram{Buckets: []Bucket{}}
	if total == nil {
		return h, reset
	}
	for i, le := range total.les {
		h.Buckets = append(h.Buckets, Bucket{LE: le, Count: total.cum[i]})
	}
	h.Count, h.Sum = total.count, total.sum
	return h, reset
}

// finite reports whether h can be encoded as JSON.
func (h Histogram) finite() bool {
	if !finite(h.Count) || !finite(h.Sum) {
		return false
	}
	for _, b := range h.Buckets {
		if !finite(b.LE) || !finite(b.Count) {
			return false
		}
	}
	return true
}

// Quantile estimates the q-quantile of the observations in h the way
// Prometheus' histogram_quantile does for classic histograms, so a server-side
// TTFT p99 here equals the one a Grafana panel shows for the same window:
// buckets are sorted and made monotonic, the +Inf bucket is Count, the value
// is interpolated linearly within the bucket holding rank q·Count, the lowest
// bucket starts at 0 (if its bound is positive), and a rank in the +Inf
// bucket returns the highest finite bound.
//
// Special cases as in Prometheus: NaN when q is NaN, h has no observations or
// no finite bucket; −Inf for q < 0; +Inf for q > 1.
func (h Histogram) Quantile(q float64) float64 {
	switch {
	case math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(+1)
	}
	type bucket struct{ le, count float64 }
	bs := make([]bucket, 0, len(h.Buckets)+1)
	for _, b := range h.Buckets {
		if !math.IsNaN(b.LE) && !math.IsInf(b.LE, +1) {
			bs = append(bs, bucket{b.LE, b.Count})
		}
	}
	bs = append(bs, bucket{math.Inf(+1), h.Count})
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	// Coalesce equal bounds, then force monotonicity (the envelope), as
	// Prometheus does for inconsistent input.
	merged := bs[:1]
	for _, b := range bs[1:] {
		if last := &merged[len(merged)-1]; b.le == last.le {
			last.count += b.count
		} else {
			merged = append(merged, b)
		}
	}
	bs = merged
	for i := 1; i < len(bs); i++ {
		bs[i].count = math.Max(bs[i].count, bs[i-1].count)
	}
	if len(bs) < 2 {
		return math.NaN()
	}
	observations := bs[len(bs)-1].count
	if observations == 0 || math.IsNaN(observations) {
		return math.NaN()
	}
	rank := q * observations
	b := sort.Search(len(bs)-1, func(i int) bool { return bs[i].count >= rank })
	if b == len(bs)-1 {
		return bs[len(bs)-2].le
	}
	if b == 0 && bs[0].le <= 0 {
		return bs[0].le
	}
	start, end, count := 0.0, bs[b].le, bs[b].count
	if b > 0 {
		start = bs[b-1].le
		count -= bs[b-1].count
		rank -= bs[b-1].count
	}
	return start + (end-start)*(rank/count)
}
