package eval

import (
	"math"
	"testing"
)

func TestRetainHandValues(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	base := []Run{{Tasks: []Task{
		{Task: "gsm8k", Metric: "exact_match", Filter: "strict-match", Shots: 5, Score: 0.80, Stderr: f(0.01)},
		{Task: "mmlu", Metric: "acc", Filter: "none", Shots: 5, Score: 0.50, Stderr: nil},
	}}}
	quant := []Run{{Tasks: []Task{
		{Task: "gsm8k", Metric: "exact_match", Filter: "strict-match", Shots: 5, Score: 0.76, Stderr: f(0.0095)},
		{Task: "mmlu", Metric: "acc", Filter: "none", Shots: 5, Score: 0.49, Stderr: f(0.004)},
		{Task: "hellaswag", Metric: "acc_norm", Filter: "none", Shots: 5, Score: 0.7},            // no baseline: dropped
		{Task: "gsm8k", Metric: "exact_match", Filter: "flexible-extract", Shots: 5, Score: 0.8}, // other filter: dropped
	}}}
	got := Retain(base, quant)
	if len(got) != 2 {
		t.Fatalf("got %d retentions, want 2: %+v", len(got), got)
	}
	g := got[0]
	// ratio 0.76/0.80 = 0.95; relative errors 0.0095/0.76 = 0.0125 and 0.01/0.8 = 0.0125
	// se = 0.95 * sqrt(2) * 0.0125 = 0.016794; interval 0.95 ± 1.96 se
	se := 0.95 * math.Sqrt2 * 0.0125
	if math.Abs(g.Ratio-0.95) > 1e-12 || math.Abs(g.Difference+0.04) > 1e-12 {
		t.Errorf("gsm8k ratio %g diff %g", g.Ratio, g.Difference)
	}
	if g.Low == nil || math.Abs(*g.Low-(0.95-1.96*se)) > 1e-12 || math.Abs(*g.High-(0.95+1.96*se)) > 1e-12 {
		t.Errorf("gsm8k interval %v %v", g.Low, g.High)
	}
	if m := got[1]; math.Abs(m.Ratio-0.98) > 1e-12 || m.Low != nil {
		t.Errorf("mmlu: ratio %g, interval without a baseline stderr %v", m.Ratio, m.Low)
	}
}
