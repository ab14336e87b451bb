package bench

import (
	"math"
	"sort"
)

// Stats summarises one latency metric over a level, in milliseconds. The
// definitions are numpy's, as `vllm bench serve` uses them: population
// standard deviation (ddof=0) and percentiles by linear interpolation between
// closest ranks (numpy's default "linear" method). Empty input gives nulls.
type Stats struct {
	Mean   *float64 `json:"mean"`
	Median *float64 `json:"median"`
	Std    *float64 `json:"std"`
	P50    *float64 `json:"p50"`
	P90    *float64 `json:"p90"`
	P95    *float64 `json:"p95"`
	P99    *float64 `json:"p99"`
	P999   *float64 `json:"p999"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
	Count  int      `json:"count"`
}

// Summarize computes Stats; it sorts a copy, never the caller's slice.
func Summarize(values []float64) Stats {
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	return summarizeSorted(len(v), func(yield func(float64)) {
		for _, x := range v {
			yield(x)
		}
	}, func(i int) float64 { return v[i] })
}

// summarizeSorted computes Stats over n values that each yields in
// ascending order and at gives by rank, so that a caller holding them in
// another form (counts of whole microseconds) need not expand them. The
// sums run in ascending order, value by value, as Summarize's always did,
// so both give the same float64s for the same values.
func summarizeSorted(n int, each func(func(float64)), at func(int) float64) Stats {
	s := Stats{Count: n}
	if n == 0 {
		return s
	}
	var sum float64
	each(func(x float64) { sum += x })
	mean := sum / float64(n)
	var sq float64
	each(func(x float64) { sq += (x - mean) * (x - mean) })
	std := math.Sqrt(sq / float64(n))
	p := func(q float64) *float64 { x := percentileAt(n, at, q); return &x }
	lo, hi := at(0), at(n-1)
	s.Mean, s.Std = &mean, &std
	s.Median, s.P50, s.P90, s.P95, s.P99, s.P999 = p(50), p(50), p(90), p(95), p(99), p(99.9)
	s.Min, s.Max = &lo, &hi
	return s
}

// Percentile is numpy.percentile(sorted, q) with the default linear method:
// the value at rank q/100·(n−1), interpolated between its neighbours.
func Percentile(sorted []float64, q float64) float64 {
	return percentileAt(len(sorted), func(i int) float64 { return sorted[i] }, q)
}

func percentileAt(n int, at func(int) float64, q float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	rank := q / 100 * float64(n-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	if hi >= n {
		hi = n - 1
	}
	frac := rank - float64(lo)
	return at(lo) + (at(hi)-at(lo))*frac
}
