package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Sample is one document's score in one eval run: lm-eval's per-sample
// metric value (1/0 for acc and exact_match) for a task, a filter and a
// document id, as --log_samples writes it.
type Sample struct {
	Task   string
	Filter string
	DocID  int
	Value  float64
}

// Paired is the retention of a quantized model against its baseline on the
// documents both were scored on, paired by (task, filter, doc_id): the same
// questions, so the per-question noise cancels. Flip counts and McNemar's
// exact test apply to 0/1 metrics; the paired bootstrap interval to any.
type Paired struct {
	Task   string `json:"task"`
	Filter string `json:"filter"`
	N      int    `json:"n"` // documents scored in both runs
	// Documents scored in one run only (a different --limit, a failed
	// request); they are left out of every figure below.
	Unpaired  int     `json:"unpaired"`
	Baseline  float64 `json:"baseline"`  // mean over the paired documents
	Quantized float64 `json:"quantized"` // mean over the paired documents
	Diff      float64 `json:"diff"`      // quantized − baseline
	Ratio     float64 `json:"ratio"`     // quantized / baseline (NaN when baseline is 0)
	// Paired bootstrap percentile interval of Diff: documents resampled
	// with replacement, both runs' scores of a document kept together.
	DiffLow   float64 `json:"diff_ci_low"`
	DiffHigh  float64 `json:"diff_ci_high"`
	RatioLow  float64 `json:"ratio_ci_low"`
	RatioHigh float64 `json:"ratio_ci_high"`
	Level     float64 `json:"ci_level"`
	Resamples int     `json:"resamples"`
	Seed      uint64  `json:"seed"`
	// Binary metrics only (every value 0 or 1); nil otherwise.
	Flips *Flips `json:"flips"`
}

// Flips counts how the paired documents moved between the two runs, and
// McNemar's exact (binomial) two-sided p-value on the discordant ones.
type Flips struct {
	BothRight int     `json:"both_right"`
	BothWrong int     `json:"both_wrong"`
	Lost      int     `json:"lost"`   // right in the baseline, wrong quantized
	Gained    int     `json:"gained"` // wrong in the baseline, right quantized
	McNemarP  float64 `json:"mcnemar_p"`
}

// PairOptions sets the bootstrap; zero values take the defaults.
type PairOptions struct {
	Resamples int     // default 10000
	Level     float64 // default 0.95
	Seed      uint64  // default 0 (a fixed seed: results diff cleanly)
}

type pairKey struct {
	task, filter string
	doc          int
}

// RetainPaired pairs the samples of one filter from two runs by (task,
// document id). Several tasks (a group's subtasks) pool their documents, which
// is the group's size-weighted mean; Task is then empty. A document listed twice in one run is an error: pairing would
// be ambiguous.
func RetainPaired(baseline, quantized []Sample, o PairOptions) (Paired, error) {
	if o.Resamples <= 0 {
		o.Resamples = 10000
	}
	if o.Level <= 0 || o.Level >= 1 {
		o.Level = 0.95
	}
	index := func(side string, ss []Sample) (map[pairKey]float64, error) {
		m := make(map[pairKey]float64, len(ss))
		for _, s := range ss {
			k := pairKey{s.Task, s.Filter, s.DocID}
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("%s run scores %s/%s doc %d twice", side, s.Task, s.Filter, s.DocID)
			}
			if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
				return nil, fmt.Errorf("%s run: %s/%s doc %d has no finite score", side, s.Task, s.Filter, s.DocID)
			}
			m[k] = s.Value
		}
		return m, nil
	}
	bm, err := index("baseline", baseline)
	if err != nil {
		return Paired{}, err
	}
	qm, err := index("quantized", quantized)
	if err != nil {
		return Paired{}, err
	}
	var keys []pairKey
	out := Paired{Level: o.Level, Resamples: o.Resamples, Seed: o.Seed}
	tasks, filters := map[string]bool{}, map[string]bool{}
	for k := range bm {
		if _, ok := qm[k]; ok {
			keys = append(keys, k)
			tasks[k.task], filters[k.filter] = true, true
		} else {
			out.Unpaired++
		}
	}
	for k := range qm {
		if _, ok := bm[k]; !ok {
			out.Unpaired++
		}
	}
	if len(filters) > 1 {
		return Paired{}, fmt.Errorf("samples of %d filters given; pair one filter at a time", len(filters))
	}
	if len(keys) == 0 {
		return Paired{}, fmt.Errorf("no document was scored in both runs (%d unpaired)", out.Unpaired)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].task != keys[j].task {
			return keys[i].task < keys[j].task
		}
		return keys[i].doc < keys[j].doc
	})
	out.Filter, out.N = keys[0].filter, len(keys)
	if len(tasks) == 1 {
		out.Task = keys[0].task
	}
	b := make([]float64, len(keys))
	q := make([]float64, len(keys))
	binary := true
	for i, k := range keys {
		b[i], q[i] = bm[k], qm[k]
		binary = binary && (b[i] == 0 || b[i] == 1) && (q[i] == 0 || q[i] == 1)
	}
	out.Baseline, out.Quantized = mean(b), mean(q)
	out.Diff, out.Ratio = out.Quantized-out.Baseline, ratio(out.Quantized, out.Baseline)
	out.DiffLow, out.DiffHigh, out.RatioLow, out.RatioHigh = bootstrap(b, q, o)
	if binary {
		f := &Flips{}
		for i := range b {
			switch {
			case b[i] == 1 && q[i] == 1:
				f.BothRight++
			case b[i] == 0 && q[i] == 0:
				f.BothWrong++
			case b[i] == 1:
				f.Lost++
			default:
				f.Gained++
			}
		}
		f.McNemarP = McNemarExact(f.Lost, f.Gained)
		out.Flips = f
	}
	return out, nil
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// bootstrap resamples document indices with replacement and returns the
// percentile interval of the mean difference and of the ratio of means.
func bootstrap(b, q []float64, o PairOptions) (dLo, dHi, rLo, rHi float64) {
	r := rand.New(rand.NewPCG(o.Seed, 0x666f726765)) // "forge"
	n := len(b)
	diffs := make([]float64, o.Resamples)
	ratios := make([]float64, 0, o.Resamples)
	for i := range diffs {
		sb, sq := 0.0, 0.0
		for range n {
			j := r.IntN(n)
			sb += b[j]
			sq += q[j]
		}
		diffs[i] = (sq - sb) / float64(n)
		if sb != 0 {
			ratios = append(ratios, sq/sb)
		}
	}
	alpha := (1 - o.Level) / 2
	dLo, dHi = percentile(diffs, alpha), percentile(diffs, 1-alpha)
	rLo, rHi = math.NaN(), math.NaN()
	if len(ratios) == o.Resamples { // a ratio interval only when no resample had a zero baseline
		rLo, rHi = percentile(ratios, alpha), percentile(ratios, 1-alpha)
	}
	return dLo, dHi, rLo, rHi
}

// percentile is numpy's default (linear interpolation between closest ranks).
func percentile(x []float64, p float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	h := p * float64(len(s)-1)
	lo := math.Floor(h)
	if int(lo) >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[int(lo)] + (h-lo)*(s[int(lo)+1]-s[int(lo)])
}

// McNemarExact is the exact two-sided McNemar test: under no difference each
// discordant document is a fair coin, so the p-value is twice the binomial
// tail P(X ≤ min(lost, gained)) for X ~ Bin(lost+gained, ½), capped at 1;
// 1 when there is no discordant document.
func McNemarExact(lost, gained int) float64 {
	n := lost + gained
	if n == 0 {
		return 1
	}
	k := min(lost, gained)
	// Sum in log space: n can be in the thousands.
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	tail := 0.0
	for i := 0; i <= k; i++ {
		tail += math.Exp(lg(n) - lg(i) - lg(n-i) - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}
