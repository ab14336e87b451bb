package scrape

import (
	"math"
	"testing"
)

func TestQuantileFixtures(t *testing.T) {
	v := fixtureView(t)
	for _, tc := range []struct {
		name string
		q    float64
		want float64
	}{
		// TTFT: cumulative 4 ≤0.04, 10 ≤0.06, 16 ≤0.08, 19 ≤0.1, 20 ≤0.25.
		{"vllm:time_to_first_token_seconds", 0.5, 0.06},            // rank 10: 0.04 + 0.02·6/6
		{"vllm:time_to_first_token_seconds", 0.9, 0.08 + 0.02*2/3}, // rank 18
		{"vllm:time_to_first_token_seconds", 0.99, 0.1 + 0.15*0.8}, // rank 19.8
		{"vllm:time_to_first_token_seconds", 0.1, 0.02 + 0.02*2/4}, // rank 2
		{"vllm:inter_token_latency_seconds", 0.5, 0.01 + 0.015*1168.5/1200},
		{"vllm:inter_token_latency_seconds", 0.99, 0.1 + 0.05*(2313.63-2200)/137},
		{"vllm:e2e_request_latency_seconds", 0.5, 2.5 + 2.5*5/12}, // rank 10 in (2.5, 5]
		{"vllm:e2e_request_latency_seconds", 0.95, 5 + 5*2.0/3},   // rank 19 in (5, 10]
		{"vllm:e2e_request_latency_seconds", 0.05, 0.8 + 0.2*1/1}, // rank 1 in (0.8, 1]
	} {
		if got := v.Histograms[tc.name].Quantile(tc.q); !approx(got, tc.want) {
			t.Errorf("%s q%v = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	// 2 observations ≤ 1, 3 in (1, 2], none in (2, 4], 5 above 4.
	h := Histogram{Buckets: []Bucket{{1, 2}, {2, 5}, {4, 5}}, Count: 10, Sum: 50}
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		h    Histogram
		q    float64
		want float64
	}{
		{"median", h, 0.5, 2},                      // rank 5: 1 + 1·3/3
		{"lowest bucket starts at 0", h, 0.1, 0.5}, // rank 1: 0 + 1·1/2
		{"in +Inf bucket", h, 0.9, 4},              // highest finite bound
		{"q=1", h, 1, 4},
		{"q<0", h, -0.1, math.Inf(-1)},
		{"q>1", h, 1.1, math.Inf(+1)},
		{"q NaN", h, nan, nan},
		{"no observations", Histogram{Buckets: []Bucket{{1, 0}}, Count: 0}, 0.5, nan},
		{"no finite bucket", Histogram{Count: 5}, 0.5, nan},
		{"unsorted", Histogram{Buckets: []Bucket{{4, 5}, {1, 2}, {2, 5}}, Count: 10}, 0.5, 2},
		// Not monotonic: the envelope makes le=2 hold 5, as Prometheus does.
		{"non-monotonic", Histogram{Buckets: []Bucket{{1, 5}, {2, 3}}, Count: 6}, 0.5, 0.6},
		{"non-positive lowest bound", Histogram{Buckets: []Bucket{{-1, 3}, {1, 6}}, Count: 6}, 0.25, -1},
		// As in Prometheus: q=0 on an empty lowest bucket is 0·(0/0).
		{"q=0, empty first bucket", Histogram{Buckets: []Bucket{{1, 0}, {2, 4}}, Count: 4}, 0, nan},
		{"q=0", h, 0, 0},
	} {
		got := tc.h.Quantile(tc.q)
		if !(approx(got, tc.want) || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: Quantile(%v) = %v, want %v", tc.name, tc.q, got, tc.want)
		}
	}
}
