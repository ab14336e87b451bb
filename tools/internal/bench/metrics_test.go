package bench

import (
	"math"
	"testing"
	"time"
)

func msd(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// TestMeasure applies the definitions to hand-made chunk timelines.
func TestMeasure(t *testing.T) {
	est := Counter{Count: func(s string) int { return len(s) }, Source: "estimate"}
	tests := []struct {
		name                 string
		tl                   Timeline
		status               string
		ttft, e2el, tpot     float64 // NaN: null
		itl                  []float64
		out                  int
		source               string
		role, tokensPerChunk float64
	}{
		{
			name: "completions, one token per chunk, usage chunk last",
			tl: Timeline{Content: []time.Duration{msd(100), msd(110), msd(125), msd(130)}, LastChoice: msd(130),
				Usage: &Usage{PromptTokens: 12, CompletionTokens: 4}, FinishReason: "length", Status: "ok"},
			status: "ok", ttft: 100, e2el: 130, tpot: 10, itl: []float64{10, 15, 5}, out: 4, source: "usage", role: math.NaN(), tokensPerChunk: 1,
		},
		{
			name: "chat: role-only chunk does not move TTFT",
			tl: Timeline{Role: msd(40), Content: []time.Duration{msd(100), msd(120)}, LastChoice: msd(120),
				Usage: &Usage{PromptTokens: 5, CompletionTokens: 2}, FinishReason: "stop", Status: "ok"},
			status: "ok", ttft: 100, e2el: 120, tpot: 20, itl: []float64{20}, out: 2, source: "usage", role: 40, tokensPerChunk: 1,
		},
		{
			name: "empty final chunk with finish_reason moves E2EL only",
			tl: Timeline{Content: []time.Duration{msd(50), msd(60)}, LastChoice: msd(70),
				Usage: &Usage{PromptTokens: 5, CompletionTokens: 2}, FinishReason: "stop", Status: "ok"},
			status: "ok", ttft: 50, e2el: 70, tpot: 20, itl: []float64{10}, out: 2, source: "usage", role: math.NaN(), tokensPerChunk: 1,
		},
		{
			name: "multi-token chunks: one ITL per gap, TPOT per token",
			tl: Timeline{Content: []time.Duration{msd(100), msd(130), msd(160)}, LastChoice: msd(160),
				Usage: &Usage{PromptTokens: 5, CompletionTokens: 7}, FinishReason: "length", Status: "ok"},
			status: "ok", ttft: 100, e2el: 160, tpot: 10, itl: []float64{30, 30}, out: 7, source: "usage", role: math.NaN(), tokensPerChunk: 7.0 / 3,
		},
		{
			name:   "one-token output has no TPOT",
			tl:     Timeline{Content: []time.Duration{msd(80)}, LastChoice: msd(80), Usage: &Usage{PromptTokens: 5, CompletionTokens: 1}, FinishReason: "length", Status: "ok"},
			status: "ok", ttft: 80, e2el: 80, tpot: math.NaN(), itl: []float64{}, out: 1, source: "usage", role: math.NaN(), tokensPerChunk: 1,
		},
		{
			name:   "no usage: tokens counted from the text",
			tl:     Timeline{Content: []time.Duration{msd(10), msd(20), msd(40)}, LastChoice: msd(40), Text: "abcd", FinishReason: "stop", Status: "ok"},
			status: "ok", ttft: 10, e2el: 40, tpot: 10, itl: []float64{10, 20}, out: 4, source: "estimate", role: math.NaN(), tokensPerChunk: 4.0 / 3,
		},
		{
			name:   "failure keeps its reason and has no latencies",
			tl:     Timeline{Content: []time.Duration{msd(10)}, Status: "error", Reason: "stream cut mid-way: unexpected EOF"},
			status: "error", ttft: math.NaN(), e2el: math.NaN(), tpot: math.NaN(), itl: []float64{}, out: 0, source: "estimate", role: math.NaN(), tokensPerChunk: math.NaN(),
		},
		{
			name:   "finished without text is a failure",
			tl:     Timeline{LastChoice: msd(10), FinishReason: "stop", Status: "ok"},
			status: "error", ttft: math.NaN(), e2el: math.NaN(), tpot: math.NaN(), itl: []float64{}, source: "estimate", role: math.NaN(), tokensPerChunk: math.NaN(),
		},
	}
	same := func(a, b float64) bool { return math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) < 1e-6 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Measure(tt.tl, 99, est)
			if r.Status != tt.status {
				t.Fatalf("status %q (%s), want %q", r.Status, r.Error, tt.status)
			}
			if r.Status != "ok" && r.Error == "" {
				t.Error("a failed record must say why")
			}
			for _, c := range []struct {
				n         string
				got, want float64
			}{{"ttft", val(r.TTFTMs), tt.ttft}, {"e2el", val(r.E2ELMs), tt.e2el}, {"tpot", val(r.TPOTMs), tt.tpot},
				{"role", val(r.RoleChunkMs), tt.role}, {"tokens/chunk", val(r.TokensPerChunk), math.Round(tt.tokensPerChunk*1000) / 1000}} {
				if !same(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.n, c.got, c.want)
				}
			}
			if len(r.ITLMs) != len(tt.itl) {
				t.Fatalf("itl = %v, want %v", r.ITLMs, tt.itl)
			}
			for i := range tt.itl {
				if !same(r.ITLMs[i], tt.itl[i]) {
					t.Errorf("itl[%d] = %v, want %v", i, r.ITLMs[i], tt.itl[i])
				}
			}
			if r.OutputTokens != tt.out || r.TokenSource != tt.source {
				t.Errorf("output tokens %d (%s), want %d (%s)", r.OutputTokens, r.TokenSource, tt.out, tt.source)
			}
		})
	}
}

// TestStats checks numpy's definitions on values computed by hand.
func TestStats(t *testing.T) {
	s := Summarize([]float64{4, 1, 3, 2})
	// sorted 1 2 3 4: mean 2.5; population std sqrt(1.25); p50 = 2.5;
	// p90 at rank 2.7 → 3.7; p99 at rank 2.97 → 3.97; p99.9 at 2.997 → 3.997.
	want := map[string]float64{"mean": 2.5, "std": math.Sqrt(1.25), "median": 2.5, "p90": 3.7, "p95": 3.85, "p99": 3.97, "p999": 3.997, "min": 1, "max": 4}
	got := map[string]float64{"mean": *s.Mean, "std": *s.Std, "median": *s.Median, "p90": *s.P90, "p95": *s.P95, "p99": *s.P99, "p999": *s.P999, "min": *s.Min, "max": *s.Max}
	for k, w := range want {
		if math.Abs(got[k]-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if e := Summarize(nil); e.Count != 0 || e.Mean != nil || e.P99 != nil {
		t.Errorf("empty stats: %+v", e)
	}
	if one := Summarize([]float64{7}); *one.P99 != 7 || *one.Std != 0 {
		t.Errorf("single value: %+v", one)
	}
}
