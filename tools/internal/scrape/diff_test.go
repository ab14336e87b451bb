package scrape

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureView is the level recorded in testdata: vllm-0.11-before.txt after a
// 4-request warm-up, vllm-0.11-after.txt after a 20-request level (see
// testdata/gen_fixtures.py for the observations).
func fixtureView(t *testing.T) View {
	before := load(t, "vllm-0.11-before.txt", t0)
	after := load(t, "vllm-0.11-after.txt", t0.Add(90*time.Second))
	return Diff(before, after, nil)
}

func TestDiffCounters(t *testing.T) {
	v := fixtureView(t)
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"vllm:prompt_tokens_total", 4512 - 512},
		{"vllm:generation_tokens_total", 2589 - 232},
		{"vllm:prefix_cache_queries_total", 4000},
		{"vllm:prefix_cache_hits_total", 1536},
		{"vllm:num_preemptions_total", 2},
		// 12 stop + 7 length + 1 abort, summed over finished_reason.
		{"vllm:request_success_total", 20},
		{"vllm:time_to_first_token_seconds_count", 20},
		// 0.025+0.030+0.035+0.038 + 0.042+0.045+0.048+0.051+0.055+0.058 +
		// 0.062+0.065+0.069+0.071+0.074+0.079 + 0.083+0.091+0.097 + 0.180
		{"vllm:time_to_first_token_seconds_sum", 0.128 + 0.299 + 0.420 + 0.271 + 0.180},
		{"vllm:inter_token_latency_seconds_count", 2337},
		{"vllm:inter_token_latency_seconds_sum", 1200*0.02 + 800*0.03 + 200*0.06 + 137*0.12},
		{"vllm:e2e_request_latency_seconds_count", 20},
		{"vllm:e2e_request_latency_seconds_sum", 0.9 + 7*4.2 + 4*2.2 + 5*3.1 + 3*6.5},
		{"vllm:request_prompt_tokens_sum", 20 * 200},
		{"vllm:request_generation_tokens_sum", 21 + 7*128 + 12*120},
		{"vllm:request_params_max_tokens_sum", 20 * 128},
		{"vllm:request_params_n_count", 20},
		// 2337 gaps / 20 requests = 116 decode steps, plus one prefill step.
		{"vllm:iteration_tokens_total_count", 117},
	} {
		got, ok := v.Counters[tc.name]
		if !ok || !approx(got, tc.want) {
			t.Errorf("%s = %v (present %v), want %v", tc.name, got, ok, tc.want)
		}
	}
	// 6 counters, and _sum and _count for each of 14 histograms (the
	// deprecated time_per_output_token_seconds is folded into ITL).
	if len(v.Counters) != 6+2*14 {
		t.Errorf("%d counters, want 34: %v", len(v.Counters), keys(v.Counters))
	}
	for name := range v.Counters {
		if !strings.HasPrefix(name, "vllm:") || strings.Contains(name, "_created") ||
			strings.Contains(name, "time_per_output_token_seconds") && !strings.HasPrefix(name, "vllm:request_") {
			t.Errorf("unexpected counter %s", name)
		}
	}
	if len(v.Resets) != 0 {
		t.Errorf("Resets = %v, want none", v.Resets)
	}
}

func TestDiffGaugesAndFilter(t *testing.T) {
	v := fixtureView(t)
	want := []string{"vllm:cache_config_info", "vllm:kv_cache_usage_perc", "vllm:num_requests_running",
		"vllm:num_requests_waiting"}
	if got := keys(v.Gauges); !slices.Equal(got, want) {
		t.Errorf("gauges %v, want %v (no process_*, python_*, *_created)", got, want)
	}
	if got := v.Gauges["vllm:cache_config_info"]; !slices.Equal(got, []float64{1, 1}) {
		t.Errorf("cache_config_info = %v", got)
	}
	if v.IntervalS != 0 {
		t.Errorf("IntervalS = %v with no samples", v.IntervalS)
	}
}

func TestDiffHistograms(t *testing.T) {
	v := fixtureView(t)
	ttftLE := []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
		7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	itlLE := []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
		10.0, 20.0, 40.0, 80.0}
	e2eLE := []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
		120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
	for _, tc := range []struct {
		name   string
		les    []float64
		counts []float64 // hand-counted cumulative level observations ≤ each le
		count  float64
	}{
		{"vllm:time_to_first_token_seconds", ttftLE,
			[]float64{0, 0, 0, 0, 4, 10, 16, 19, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20}, 20},
		{"vllm:inter_token_latency_seconds", itlLE,
			[]float64{0, 1200, 2000, 2200, 2200, 2337, 2337, 2337, 2337, 2337, 2337, 2337, 2337, 2337, 2337,
				2337, 2337, 2337, 2337}, 2337},
		{"vllm:e2e_request_latency_seconds", e2eLE,
			[]float64{0, 0, 0, 1, 1, 1, 5, 17, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20}, 20},
	} {
		h, ok := v.Histograms[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		var les, counts []float64
		for _, b := range h.Buckets {
			les, counts = append(les, b.LE), append(counts, b.Count)
		}
		if !slices.Equal(les, tc.les) || !slices.Equal(counts, tc.counts) || h.Count != tc.count {
			t.Errorf("%s:\n le  %v\n got %v count %v\n want %v count %v", tc.name, les, counts, h.Count,
				tc.counts, tc.count)
		}
		if !approx(h.Sum, v.Counters[tc.name+"_sum"]) {
			t.Errorf("%s: Sum %v, counter %v", tc.name, h.Sum, v.Counters[tc.name+"_sum"])
		}
	}
	if len(v.Histograms) != 14 {
		t.Errorf("%d histograms, want 14: %v", len(v.Histograms), keys(v.Histograms))
	}
}

func gaugeText(engine0, engine1 float64) string {
	return fmt.Sprintf(`# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0"} %g
vllm:num_requests_running{engine="1"} %g
`, engine0, engine1)
}

func TestDiffGaugeOrderAndInterval(t *testing.T) {
	before := mustParse(t, gaugeText(1, 1), t0)
	s1 := mustParse(t, gaugeText(3, 1), t0.Add(2*time.Second))
	s2 := mustParse(t, gaugeText(5, 1), t0.Add(3*time.Second))
	empty := mustParse(t, "# TYPE vllm:other gauge\nvllm:other 7\n", t0.Add(4*time.Second))
	after := mustParse(t, gaugeText(0, 1), t0.Add(5*time.Second))
	// Samples given out of order; a sample lacking the family reads as 0.
	v := Diff(before, after, []Snapshot{empty, s2, s1})
	if got, want := v.Gauges["vllm:num_requests_running"], []float64{2, 4, 6, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("gauge = %v, want %v", got, want)
	}
	if got, want := v.Gauges["vllm:other"], []float64{0, 0, 0, 7, 0}; !slices.Equal(got, want) {
		t.Errorf("vllm:other = %v, want %v", got, want)
	}
	if v.IntervalS != 1 {
		t.Errorf("IntervalS = %v, want 1 (median gap)", v.IntervalS)
	}
	// Samples outside [before, after] are ignored, not read as a drop.
	early := mustParse(t, gaugeText(9, 9), t0.Add(-time.Second))
	late := mustParse(t, gaugeText(9, 9), t0.Add(6*time.Second))
	v = Diff(before, after, []Snapshot{late, s1, early})
	if got, want := v.Gauges["vllm:num_requests_running"], []float64{2, 4, 1}; !slices.Equal(got, want) {
		t.Errorf("with samples outside the level: gauge = %v, want %v", got, want)
	}
}

func TestInterval(t *testing.T) {
	at := func(sec ...float64) []Snapshot {
		var out []Snapshot
		for _, s := range sec {
			out = append(out, Snapshot{At: t0.Add(time.Duration(s * float64(time.Second)))})
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		before Snapshot
		mid    []Snapshot
		want   float64
	}{
		{"no samples", Snapshot{At: t0}, nil, 0},
		{"one sample", Snapshot{At: t0}, at(1.5), 1.5},
		{"one sample, no before time", Snapshot{}, at(1.5), 0},
		{"odd gaps", Snapshot{At: t0}, at(1, 2, 3, 6), 1},
		{"even gaps", Snapshot{At: t0}, at(1, 2, 4), 1.5},
		{"rounded to ms", Snapshot{At: t0}, at(0.25, 0.50025), 0.25},
	} {
		if got := interval(tc.before, tc.mid); got != tc.want {
			t.Errorf("%s: interval = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestViewJSON(t *testing.T) {
	v := fixtureView(t)
	// A NaN gauge and a NaN histogram must not break encoding.
	nan := mustParse(t, `# TYPE vllm:g gauge
vllm:g NaN
# TYPE vllm:h histogram
vllm:h_bucket{le="1"} 1
vllm:h_bucket{le="+Inf"} 1
vllm:h_sum NaN
vllm:h_count 1
`, t0)
	for _, view := range []View{v, Diff(nan, nan, nil)} {
		b, err := json.Marshal(view)
		if err != nil {
			t.Fatal(err)
		}
		var back View
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(v)
	var raw struct {
		Histograms map[string]struct {
			Buckets []map[string]float64 `json:"buckets"`
			Count   float64              `json:"count"`
		} `json:"histograms"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	ttft := raw.Histograms["vllm:time_to_first_token_seconds"]
	if n := len(ttft.Buckets); n != 22 || ttft.Buckets[n-1]["le"] != 2560 || ttft.Count != 20 {
		t.Errorf("TTFT JSON: %d buckets, last %v, count %v", n, ttft.Buckets[n-1], ttft.Count)
	}
}

func TestDiffOldNames(t *testing.T) {
	// A 0.6 server compared against an empty before: its old names land
	// under the current ones.
	v := Diff(Snapshot{}, load(t, "vllm-0.6-old-names.txt", t0), nil)
	if got := v.Gauges["vllm:kv_cache_usage_perc"]; !slices.Equal(got, []float64{0, 0.25}) {
		t.Errorf("kv_cache_usage_perc = %v", got)
	}
	itl := v.Histograms["vllm:inter_token_latency_seconds"]
	if itl.Count != 10 || len(itl.Buckets) != 13 || itl.Buckets[1].Count != 6 || !approx(itl.Quantile(0.5), 0.01+0.015*5/6) {
		t.Errorf("ITL from time_per_output_token = %+v", itl)
	}
	if v.Counters["vllm:prompt_tokens_total"] != 600 || v.Counters["vllm:request_success_total"] != 2 {
		t.Errorf("counters %v", v.Counters)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestDiffVLLM032: real /metrics of vLLM 0.32.0 (CPU build, SmolLM2-135M)
// before and after four completions of "Hello, my name is" (5 tokens and
// the BOS the server adds: 6 prompt tokens each), three of 16 tokens and
// one of 1 (testdata/README.md). 0.32 no longer has
// time_per_output_token_seconds; the gaps are in inter_token_latency.
func TestDiffVLLM032(t *testing.T) {
	before := load(t, "vllm-0.32-cpu-before.txt", t0)
	after := load(t, "vllm-0.32-cpu-after.txt", t0.Add(30*time.Second))
	v := Diff(before, after, nil)
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"vllm:prompt_tokens_total", 4 * 6},
		{"vllm:generation_tokens_total", 3*16 + 1},
		{"vllm:request_success_total", 4},
		{"vllm:time_to_first_token_seconds_count", 4},
		{"vllm:e2e_request_latency_seconds_count", 4},
		// one gap per generated token after each request's first
		{"vllm:inter_token_latency_seconds_count", 3*16 + 1 - 4},
		{"vllm:request_time_per_output_token_seconds_count", 4},
	} {
		if got, ok := v.Counters[tc.name]; !ok || !approx(got, tc.want) {
			t.Errorf("%s = %v (present %v), want %v", tc.name, got, ok, tc.want)
		}
	}
	for _, g := range []string{"vllm:kv_cache_usage_perc", "vllm:num_requests_running", "vllm:num_requests_waiting"} {
		if _, ok := v.Gauges[g]; !ok {
			t.Errorf("gauge %s missing: %v", g, keys(v.Gauges))
		}
	}
	for name := range v.Counters {
		if !strings.HasPrefix(name, "vllm:") || strings.Contains(name, "_created") || strings.HasPrefix(name, "vllm:time_per_output_token") {
			t.Errorf("unexpected counter %s", name)
		}
	}
}
