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
	s := Stats{Count: len(values)}
	if len(values) == 0 {
		return s
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	var sq float64
	for _, x := range v {
		sq += (x - mean) * (x - mean)
	}
	std := math.Sqrt(sq / float64(len(v)))
	p := func(q float64) *float64 { x := Percentile(v, q); return &x }
	s.Mean, s.Std = &mean, &std
	s.Median, s.P50, s.P90, s.P95, s.P99, s.P999 = p(50), p(50), p(90), p(95), p(99), p(99.9)
	s.Min, s.Max = &v[0], &v[len(v)-1]
	return s
}

// Percentile is numpy.percentile(sorted, q) with the default linear method:
// the value at rank q/100·(n−1), interpolated between its neighbours.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := q / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	if hi >= len(sorted) {
		hi = len(sorted) - 1
	}
	frac := rank - float64(lo)
	return sorted[lo] + (sorted[hi]-sorted[lo])*frac
}
