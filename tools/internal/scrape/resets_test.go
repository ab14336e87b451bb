package scrape

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// counterText is a one-counter, one-histogram exposition for synthetic tests.
func counterText(c, hCount, hLE1 float64) string {
	return fmt.Sprintf(`# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0"} %g
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="1.0"} %g
vllm:e2e_request_latency_seconds_bucket{engine="0",le="+Inf"} %g
vllm:e2e_request_latency_seconds_sum{engine="0"} %g
vllm:e2e_request_latency_seconds_count{engine="0"} %g
`, c, hLE1, hCount, hCount, hCount)
}

func TestDiffResets(t *testing.T) {
	t.Run("restart between before and after", func(t *testing.T) {
		// The fixtures swapped: every count went down, so each delta is
		// the lower (after) value.
		before := load(t, "vllm-0.11-after.txt", t0)
		after := load(t, "vllm-0.11-before.txt", t0.Add(time.Minute))
		v := Diff(before, after, nil)
		for name, want := range map[string]float64{
			"vllm:prompt_tokens_total":               512,
			"vllm:prefix_cache_hits_total":           0,
			"vllm:request_success_total":             1 + 3 + 0,
			"vllm:time_to_first_token_seconds_count": 4,
		} {
			if got := v.Counters[name]; got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		ttft := v.Histograms["vllm:time_to_first_token_seconds"]
		if ttft.Buckets[4].Count != 2 || ttft.Buckets[5].Count != 3 || ttft.Buckets[8].Count != 4 {
			t.Errorf("TTFT after reset = %v", ttft.Buckets)
		}
		if len(v.Resets) != 6+14 || !slices.Contains(v.Resets, "vllm:prompt_tokens_total") ||
			!slices.Contains(v.Resets, "vllm:time_to_first_token_seconds") || !slices.IsSorted(v.Resets) {
			t.Errorf("Resets = %v", v.Resets)
		}
	})
	for _, tc := range []struct {
		name             string
		points           [][3]float64 // counter, histogram count, histogram le=1 count
		counter, hc, hle float64
		reset            bool
	}{
		// +50, then a restart (20 counts from zero), then +50.
		{"restart mid-level", [][3]float64{{100, 10, 4}, {150, 15, 6}, {20, 3, 1}, {70, 5, 2}}, 120, 10, 4, true},
		{"monotonic", [][3]float64{{100, 10, 4}, {150, 15, 6}, {160, 16, 7}, {170, 20, 9}}, 70, 10, 5, false},
		{"flat", [][3]float64{{5, 1, 1}, {5, 1, 1}}, 0, 0, 0, false},
		{"down without samples", [][3]float64{{100, 10, 4}, {30, 2, 2}}, 30, 2, 2, true},
		// A negative counter value is invalid and skipped; the histogram is fine.
		{"negative counter sample", [][3]float64{{100, 1, 1}, {-5, 2, 2}, {120, 3, 3}}, 20, 2, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var snaps []Snapshot
			for i, p := range tc.points {
				snaps = append(snaps, mustParse(t, counterText(p[0], p[1], p[2]), t0.Add(time.Duration(i)*time.Second)))
			}
			v := Diff(snaps[0], snaps[len(snaps)-1], snaps[1:len(snaps)-1])
			h := v.Histograms["vllm:e2e_request_latency_seconds"]
			if v.Counters["vllm:prompt_tokens_total"] != tc.counter || h.Count != tc.hc ||
				h.Buckets[0].Count != tc.hle || v.Counters["vllm:e2e_request_latency_seconds_count"] != tc.hc {
				t.Errorf("counter %v hist %v, want %v, %v/%v", v.Counters, h, tc.counter, tc.hc, tc.hle)
			}
			want := 0
			if tc.reset {
				want = 2 // the counter and the histogram
			}
			if len(v.Resets) != want {
				t.Errorf("Resets = %v, want %d", v.Resets, want)
			}
		})
	}
}

func TestDiffNewSeriesCountsFromZero(t *testing.T) {
	// vLLM 0.6 creates a finished_reason series on first use.
	before := mustParse(t, `# TYPE vllm:request_success_total counter
vllm:request_success_total{finished_reason="stop"} 2
`, t0)
	after := mustParse(t, `# TYPE vllm:request_success_total counter
vllm:request_success_total{finished_reason="stop"} 5
vllm:request_success_total{finished_reason="length"} 4
`, t0.Add(time.Second))
	v := Diff(before, after, nil)
	if got := v.Counters["vllm:request_success_total"]; got != 3+4 || len(v.Resets) != 0 {
		t.Errorf("request_success_total = %v, resets %v; want 7, none", got, v.Resets)
	}
}
