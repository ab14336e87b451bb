package eval

import (
	"math"
	"strings"
	"testing"
)

// TestMcNemarExact against binomial tails worked by hand:
// lost 2, gained 8: n = 10, P(X ≤ 2) = (1 + 10 + 45)/1024, two-sided 112/1024.
// lost 0, gained 5: P(X ≤ 0) = 1/32, two-sided 2/32.
// lost 3, gained 3: the tail passes ½, capped at 1.
func TestMcNemarExact(t *testing.T) {
	for _, c := range []struct {
		lost, gained int
		want         float64
	}{
		{2, 8, 112.0 / 1024},
		{8, 2, 112.0 / 1024},
		{0, 5, 2.0 / 32},
		{1, 0, 1},
		{3, 3, 1},
		{0, 0, 1},
		{0, 20, 2.0 / 1048576},
	} {
		if got := McNemarExact(c.lost, c.gained); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("McNemarExact(%d, %d) = %.12g, want %.12g", c.lost, c.gained, got, c.want)
		}
	}
	// Large n stays finite and symmetric (log-space sum).
	if p := McNemarExact(900, 1000); math.IsNaN(p) || p <= 0 || p >= 1 || p != McNemarExact(1000, 900) {
		t.Errorf("McNemarExact(900, 1000) = %v", p)
	}
}

func samples(task string, vals ...float64) []Sample {
	out := make([]Sample, len(vals))
	for i, v := range vals {
		out[i] = Sample{Task: task, Filter: "none", DocID: i, Value: v}
	}
	return out
}

// TestRetainPaired: means, flips and McNemar on a table worked by hand; the
// bootstrap interval brackets the difference, is a point when nothing
// changes, is deterministic for a seed, and matches the normal
// approximation's width on a large sample.
func TestRetainPaired(t *testing.T) {
	// 10 documents: both right 5, both wrong 1, lost 3 (docs 6-8), gained 1 (doc 9).
	base := samples("mmlu", 1, 1, 1, 1, 1, 0, 1, 1, 1, 0)
	quant := samples("mmlu", 1, 1, 1, 1, 1, 0, 0, 0, 0, 1)
	p, err := RetainPaired(base, quant, PairOptions{Resamples: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 10 || p.Unpaired != 0 || p.Baseline != 0.8 || p.Quantized != 0.6 || math.Abs(p.Diff+0.2) > 1e-12 || math.Abs(p.Ratio-0.75) > 1e-12 {
		t.Errorf("got n %d unpaired %d base %v quant %v diff %v ratio %v; want 10 0 0.8 0.6 -0.2 0.75", p.N, p.Unpaired, p.Baseline, p.Quantized, p.Diff, p.Ratio)
	}
	if f := p.Flips; f == nil || f.BothRight != 5 || f.BothWrong != 1 || f.Lost != 3 || f.Gained != 1 || math.Abs(f.McNemarP-10.0/16) > 1e-12 {
		// lost 3, gained 1: n 4, P(X ≤ 1) = 5/16, two-sided 10/16.
		t.Errorf("flips %+v, want 5/1/3/1 with p = 10/16", p.Flips)
	}
	if !(p.DiffLow <= p.Diff && p.Diff <= p.DiffHigh) || p.DiffLow >= 0 && p.DiffHigh <= 0 {
		t.Errorf("interval [%v, %v] does not bracket %v", p.DiffLow, p.DiffHigh, p.Diff)
	}
	again, _ := RetainPaired(base, quant, PairOptions{Resamples: 2000})
	if again.DiffLow != p.DiffLow || again.DiffHigh != p.DiffHigh {
		t.Errorf("same seed, different interval: [%v, %v] vs [%v, %v]", again.DiffLow, again.DiffHigh, p.DiffLow, p.DiffHigh)
	}

	// Noise floor: a model against itself.
	self, err := RetainPaired(base, base, PairOptions{Resamples: 500})
	if err != nil {
		t.Fatal(err)
	}
	if self.Diff != 0 || self.DiffLow != 0 || self.DiffHigh != 0 || self.Flips.Lost+self.Flips.Gained != 0 || self.Flips.McNemarP != 1 {
		t.Errorf("self-pairing: %+v %+v", self, *self.Flips)
	}

	// Large sample: 2000 documents, 10 % lost, 4 % gained. The per-document
	// difference d takes -1 (200), +1 (80), 0 (1720): mean -0.06, variance
	// E[d²] - mean² = 0.14 - 0.0036 = 0.1364, so the 95 % half-width is about
	// 1.96·sqrt(0.1364/2000) = 0.01619.
	var bl, ql []float64
	for i := range 2000 {
		switch {
		case i < 200:
			bl, ql = append(bl, 1), append(ql, 0)
		case i < 280:
			bl, ql = append(bl, 0), append(ql, 1)
		default:
			bl, ql = append(bl, 1), append(ql, 1)
		}
	}
	big, err := RetainPaired(samples("gsm8k", bl...), samples("gsm8k", ql...), PairOptions{})
	if err != nil {
		t.Fatal(err)
	}
	half := (big.DiffHigh - big.DiffLow) / 2
	if math.Abs(half-0.01619)/0.01619 > 0.1 {
		t.Errorf("bootstrap half-width %v, normal approximation 0.01619", half)
	}
	if big.Flips.McNemarP > 1e-9 {
		t.Errorf("200 lost against 80 gained: McNemar p = %v, want tiny", big.Flips.McNemarP)
	}

	// Two subtasks of a group pool their documents: doc 0 of each is a
	// different question, so four pairs, and the pooled mean.
	group, err := RetainPaired(append(samples("a", 1, 0), samples("b", 1, 1)...), append(samples("a", 1, 1), samples("b", 0, 1)...), PairOptions{Resamples: 200})
	if err != nil || group.N != 4 || group.Task != "" || group.Baseline != 0.75 || group.Quantized != 0.75 || group.Flips.Lost != 1 || group.Flips.Gained != 1 {
		t.Errorf("group: %+v, %v", group, err)
	}

	// Non-binary scores: no flips, still an interval.
	cont, err := RetainPaired(samples("x", 0.5, 0.7, 0.2), samples("x", 0.4, 0.7, 0.3), PairOptions{Resamples: 200})
	if err != nil || cont.Flips != nil || math.Abs(cont.Diff) > 1e-12 {
		t.Errorf("continuous: %+v, %v", cont, err)
	}
}

func TestRetainPairedErrors(t *testing.T) {
	dup := append(samples("mmlu", 1, 0), Sample{Task: "mmlu", Filter: "none", DocID: 1, Value: 1})
	mixed := append(samples("mmlu", 1), Sample{Task: "mmlu", Filter: "strict-match", DocID: 0, Value: 1})
	for _, c := range []struct {
		name        string
		base, quant []Sample
		want        string
	}{
		{"duplicate doc", dup, samples("mmlu", 1, 0), "twice"},
		{"nothing shared", samples("mmlu", 1), []Sample{{Task: "mmlu", Filter: "none", DocID: 7, Value: 1}}, "no document"},
		{"two filters", mixed, mixed, "one filter at a time"},
		{"NaN score", []Sample{{Task: "mmlu", Filter: "none", DocID: 0, Value: math.NaN()}}, samples("mmlu", 1), "no finite score"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := RetainPaired(c.base, c.quant, PairOptions{Resamples: 10}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	// Unpaired documents are counted, not used.
	p, err := RetainPaired(samples("mmlu", 1, 1, 0), samples("mmlu", 1, 0), PairOptions{Resamples: 10})
	if err != nil || p.N != 2 || p.Unpaired != 1 {
		t.Errorf("n %d unpaired %d err %v; want 2, 1", p.N, p.Unpaired, err)
	}
}
