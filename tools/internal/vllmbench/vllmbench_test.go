package vllmbench

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/bench"
)

const (
	detailedFile = "testdata/vllm-bench-c2-detailed.json"
	reducedFile  = "testdata/vllm-bench-c2.json"
)

// raw decodes a fixture generically, independent of Parse.
func raw(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encode(t testing.TB, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutated is the detailed fixture with f applied.
func mutated(t testing.TB, f func(m map[string]any)) []byte {
	t.Helper()
	m := raw(t, detailedFile)
	f(m)
	return encode(t, m)
}

func mustParse(t testing.TB, name string, b []byte) *Result {
	t.Helper()
	r, err := Parse(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// --- an independent reading of vLLM's definitions, for the expectations ---

// sample is vLLM's per-request metrics of the successful requests, re-derived
// here from the raw arrays of the file (seconds → ms).
type sample struct{ ttft, tpot, itl, e2el []float64 }

func derive(m map[string]any) sample {
	var s sample
	errs, ttfts, itls, outs := m["errors"].([]any), m["ttfts"].([]any), m["itls"].([]any), m["output_lens"].([]any)
	for i := range errs {
		if errs[i].(string) != "" || ttfts[i].(float64) == 0 {
			continue
		}
		ttft := ttfts[i].(float64)
		latency := ttft
		for _, g := range itls[i].([]any) {
			latency += g.(float64)
			s.itl = append(s.itl, g.(float64)*1000)
		}
		s.ttft = append(s.ttft, ttft*1000)
		s.e2el = append(s.e2el, latency*1000)
		if n := int(outs[i].(float64)); n > 1 {
			s.tpot = append(s.tpot, (latency-ttft)*1000/float64(n-1))
		}
	}
	return s
}

func (s sample) of(name string) []float64 {
	return map[string][]float64{"ttft": s.ttft, "tpot": s.tpot, "itl": s.itl, "e2el": s.e2el}[name]
}

func mean(v []float64) float64 {
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// pct is numpy.percentile's default (linear) method: rank q/100·(n−1).
func pct(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	rank := q / 100 * float64(len(s)-1)
	i := int(rank)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (rank-float64(i))*(s[i+1]-s[i])
}

func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))+1e-12
}

func val(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func statsOf(s bench.Summary, name string) bench.Stats {
	return map[string]bench.Stats{"ttft": s.TTFT, "tpot": s.TPOT, "itl": s.ITL, "e2el": s.E2EL}[name]
}

func validate(t *testing.T, s bench.Summary) {
	t.Helper()
	data, err := bench.EncodeSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := schemas.ValidateJSON(schemas.BenchSummary, data)
	if err != nil || len(findings) > 0 {
		t.Errorf("summary does not validate: %v %v", findings, err)
	}
}

// --- Parse ---

func TestParseFixtures(t *testing.T) {
	for _, file := range []string{detailedFile, reducedFile} {
		t.Run(file, func(t *testing.T) {
			m := raw(t, file)
			b, _ := os.ReadFile(file)
			r := mustParse(t, file, b)
			if r.Name != file || r.Date != m["date"] || r.Backend != m["backend"] || r.ModelID != m["model_id"] || r.TokenizerID != m["tokenizer_id"] {
				t.Errorf("setup fields: %+v", r)
			}
			if r.Label != nil || m["label"] != nil {
				t.Errorf("label = %v, file has %v", r.Label, m["label"])
			}
			if !r.RequestRate.Inf || m["request_rate"] != "inf" {
				t.Errorf("request_rate = %v, file has %v", r.RequestRate, m["request_rate"])
			}
			if r.MaxConcurrency == nil || float64(*r.MaxConcurrency) != m["max_concurrency"] {
				t.Errorf("max_concurrency = %v, file has %v", r.MaxConcurrency, m["max_concurrency"])
			}
			for _, f := range []struct {
				key string
				got float64
			}{{"num_prompts", float64(r.NumPrompts)}, {"duration", r.Duration}, {"completed", float64(r.Completed)},
				{"total_input_tokens", float64(r.TotalInputTokens)}, {"total_output_tokens", float64(r.TotalOutputTokens)},
				{"request_throughput", r.RequestThroughput}, {"output_throughput", r.OutputThroughput},
				{"total_token_throughput", r.TotalTokenThroughput}, {"max_output_tokens_per_s", val(r.MaxOutputTokensPerS)},
				{"max_concurrent_requests", float64(*r.MaxConcurrentRequests)}, {"burstiness", val(r.Burstiness)}} {
				if f.got != m[f.key].(float64) {
					t.Errorf("%s = %v, file has %v", f.key, f.got, m[f.key])
				}
			}
			if r.RequestGoodput != nil {
				t.Errorf("request_goodput = %v, file has null", *r.RequestGoodput)
			}
			// Every *_ms key of the file lands in Metrics, and nothing else does.
			n := 0
			for k, v := range m {
				if !strings.HasSuffix(k, "_ms") {
					continue
				}
				n++
				stat, metric, _ := strings.Cut(strings.TrimSuffix(k, "_ms"), "_")
				mt, ok := r.Metrics[metric]
				var got *float64
				switch {
				case !ok:
				case stat == "mean":
					got = mt.Mean
				case stat == "median":
					got = mt.Median
				case stat == "std":
					got = mt.Std
				case stat == "p50":
					got = mt.At(50)
				case stat == "p90":
					got = mt.At(90)
				case stat == "p99":
					got = mt.At(99)
				}
				if got == nil || *got != v.(float64) {
					t.Errorf("%s = %v, file has %v", k, got, v)
				}
			}
			have := 0
			for _, mt := range r.Metrics {
				have += 3 + len(mt.Percentiles)
			}
			if have != n || n != 4*6 {
				t.Errorf("Metrics hold %d values, the file %d *_ms keys", have, n)
			}
			if len(r.Extra) != 0 {
				t.Errorf("unexpected extra keys: %v", r.Extra)
			}
			if detailed := m["ttfts"] != nil; r.Detailed() != detailed {
				t.Fatalf("Detailed() = %v, want %v", r.Detailed(), detailed)
			}
			if !r.Detailed() {
				if r.ITLs != nil || r.Errors != nil || r.OutputLens != nil {
					t.Error("reduced file has arrays")
				}
				return
			}
			ttfts, itls := m["ttfts"].([]any), m["itls"].([]any)
			if len(r.TTFTs) != len(ttfts) || len(r.ITLs) != len(itls) || len(r.GeneratedTexts) != len(ttfts) {
				t.Fatalf("array lengths %d %d %d, file %d", len(r.TTFTs), len(r.ITLs), len(r.GeneratedTexts), len(ttfts))
			}
			for i := range ttfts {
				if r.TTFTs[i] != ttfts[i].(float64) || len(r.ITLs[i]) != len(itls[i].([]any)) ||
					r.ITLs[i][len(r.ITLs[i])-1] != itls[i].([]any)[len(r.ITLs[i])-1].(float64) {
					t.Errorf("request %d differs from the file", i)
				}
			}
		})
	}
}

func TestParseExtraAndVariants(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		check func(t *testing.T, r *Result)
	}{
		{"rate as number", func(m map[string]any) { m["request_rate"] = 4.0 }, func(t *testing.T, r *Result) {
			if r.RequestRate.Inf || r.RequestRate.Value != 4 {
				t.Errorf("rate = %+v", r.RequestRate)
			}
		}},
		{"null max_concurrency", func(m map[string]any) { m["max_concurrency"] = nil }, func(t *testing.T, r *Result) {
			if r.MaxConcurrency != nil {
				t.Errorf("max_concurrency = %d", *r.MaxConcurrency)
			}
		}},
		{"metadata and fractional percentile", func(m map[string]any) {
			m["gpu"] = "a5000"
			m["p99.9_ttft_ms"] = 600.5
			m["p25_ttft_ms"] = 50.0
		}, func(t *testing.T, r *Result) {
			if string(r.Extra["gpu"]) != `"a5000"` {
				t.Errorf("extra = %v", r.Extra)
			}
			ps := r.Metrics["ttft"].Percentiles
			if len(ps) != 5 || ps[0].P != 25 || ps[4].P != 99.9 || ps[4].Key != "99.9" || ps[4].Value != 600.5 {
				t.Errorf("percentiles = %+v", ps)
			}
		}},
		{"goodput", func(m map[string]any) { m["request_goodput"] = 1.5 }, func(t *testing.T, r *Result) {
			if val(r.RequestGoodput) != 1.5 {
				t.Errorf("goodput = %v", r.RequestGoodput)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustParse(t, "x.json", mutated(t, tt.edit)))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []string // substrings of the error
	}{
		{"not JSON", []byte("{\n  \"date\": 1,\n  oops\n}"), []string{"bad.json", "not valid JSON at line 3, column 3"}},
		{"truncated", []byte(`{"date": "2026`), []string{"bad.json", "not valid JSON"}},
		{"NaN", []byte(`{"duration": NaN}`), []string{"bad.json", "not valid JSON"}},
		{"appended results", append(mutated(t, func(map[string]any) {}), append([]byte("\n"), mutated(t, func(map[string]any) {})...)...), []string{"bad.json", "more than one result (vllm bench serve --append-result)"}},
		{"array", []byte(`[1, 2]`), []string{"bad.json", "the file is an array, want a JSON object"}},
		{"null", []byte(`null`), []string{"bad.json", "the file is null"}},
		{"empty object", []byte(`{}`), []string{"required field \"duration\" is missing", "required field \"completed\" is missing", "required field \"date\" is missing"}},
		{"missing duration", mutated(t, func(m map[string]any) { delete(m, "duration") }), []string{"bad.json", "required field \"duration\" is missing"}},
		{"missing completed", mutated(t, func(m map[string]any) { delete(m, "completed") }), []string{"required field \"completed\" is missing"}},
		{"completed as string", mutated(t, func(m map[string]any) { m["completed"] = "8" }), []string{"field \"completed\": want an integer, got the string \"8\""}},
		{"completed fractional", mutated(t, func(m map[string]any) { m["completed"] = 7.5 }), []string{"field \"completed\": want an integer, got the number 7.5"}},
		{"duration null", mutated(t, func(m map[string]any) { m["duration"] = nil }), []string{"field \"duration\": want a number, got null"}},
		{"duration zero", mutated(t, func(m map[string]any) { m["duration"] = 0 }), []string{"\"duration\" is 0, want a positive number"}},
		{"rate word", mutated(t, func(m map[string]any) { m["request_rate"] = "fast" }), []string{"want \"inf\" or a number, got the string \"fast\""}},
		{"rate negative", mutated(t, func(m map[string]any) { m["request_rate"] = -1 }), []string{"\"request_rate\" is -1"}},
		{"max_concurrency string", mutated(t, func(m map[string]any) { m["max_concurrency"] = "2" }), []string{"field \"max_concurrency\": want an integer or null"}},
		{"metric as string", mutated(t, func(m map[string]any) { m["mean_ttft_ms"] = "fast" }), []string{"field \"mean_ttft_ms\": want a number or null"}},
		{"bad date", mutated(t, func(m map[string]any) { m["date"] = "yesterday" }), []string{"\"date\" \"yesterday\" is not vLLM's YYYYMMDD-HHMMSS"}},
		{"ttfts of strings", mutated(t, func(m map[string]any) { m["ttfts"] = []any{"a"} }), []string{"field \"ttfts\": want an array of numbers (seconds), but an element is string"}},
		{"itls flat", mutated(t, func(m map[string]any) { m["itls"] = []any{0.1, 0.2} }), []string{"field \"itls\": want an array of arrays"}},
		{"partial arrays", mutated(t, func(m map[string]any) { delete(m, "itls") }), []string{"has per-request arrays", "but not itls"}},
		{"short array", mutated(t, func(m map[string]any) { m["output_lens"] = m["output_lens"].([]any)[1:] }), []string{"ttfts has 8 entries, output_lens 7"}},
		{"completed disagrees", mutated(t, func(m map[string]any) { m["completed"] = 7 }), []string{"8 requests have an empty error and a first token, but \"completed\" is 7"}},
		{"tokens disagree", mutated(t, func(m map[string]any) { m["total_output_tokens"] = 255 }), []string{"output_lens of the successful requests sum to 256, but \"total_output_tokens\" is 255"}},
		{"negative itl", mutated(t, func(m map[string]any) { m["itls"].([]any)[2].([]any)[4] = -0.5 }), []string{"itls[2][4] is negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse("bad.json", tt.data)
			if err == nil {
				t.Fatalf("accepted: %+v", r)
			}
			if !strings.HasPrefix(err.Error(), "bad.json: ") {
				t.Errorf("error does not start with the file name: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// --- ToSummary ---

// TestToSummaryDetailed checks every number of the imported summary against
// the file: verbatim where vLLM reported it, and otherwise against the
// statistics computed here from the raw per-request arrays.
func TestToSummaryDetailed(t *testing.T) {
	m := raw(t, detailedFile)
	b, _ := os.ReadFile(detailedFile)
	r := mustParse(t, detailedFile, b)
	s, err := ToSummary(r, Options{RunID: "r1", Experiment: "exp", Index: 3, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, s)
	if s.Schema != schemas.BenchSummary || s.Source != "vllm-bench" || s.Predicted || s.RunID != "r1" || s.Experiment != "exp" {
		t.Errorf("header: %+v", s)
	}
	if s.Level != (bench.Level{Kind: "concurrency", Value: m["max_concurrency"].(float64), Index: 3}) || bench.LevelName(s.Level) != "03-concurrency-2" {
		t.Errorf("level = %+v", s.Level)
	}
	if s.FinishedAt != "2026-11-23T17:08:41Z" {
		t.Errorf("finished_at = %s", s.FinishedAt)
	}
	start, _ := time.Parse(time.RFC3339Nano, s.StartedAt)
	end, _ := time.Parse(time.RFC3339Nano, s.FinishedAt)
	if got := end.Sub(start).Seconds(); math.Abs(got-m["duration"].(float64)) > 1e-6 {
		t.Errorf("finished − started = %v s, duration %v", got, m["duration"])
	}
	for _, f := range []struct {
		key string
		got float64
	}{{"duration", s.DurationS}, {"num_prompts", float64(s.NumPrompts)}, {"completed", float64(s.Completed)},
		{"request_throughput", s.RequestThroughput}, {"output_throughput", s.OutputThroughput},
		{"total_token_throughput", s.TotalTokenThroughput}, {"total_input_tokens", float64(s.TotalInputTokens)},
		{"total_output_tokens", float64(s.TotalOutputTokens)}} {
		if f.got != m[f.key].(float64) {
			t.Errorf("%s = %v, file has %v", f.key, f.got, m[f.key])
		}
	}
	nonEmpty := 0
	for _, e := range m["errors"].([]any) {
		if e != "" {
			nonEmpty++
		}
	}
	if s.Failed != nonEmpty || len(s.FailuresByReason) != 0 || s.Warmup != 0 || s.LateSends != 0 || s.Incomplete {
		t.Errorf("failed %d (%v), want %d", s.Failed, s.FailuresByReason, nonEmpty)
	}
	if s.API != "completions" || s.Provenance.ModelRepo != m["model_id"] || s.Provenance.ServedModel != m["model_id"] || s.Provenance.Engine.Name != "unknown" {
		t.Errorf("api %q, provenance %+v", s.API, s.Provenance)
	}
	if s.Goodput.RequestRate != nil || len(s.Goodput.SLO) != 0 || s.Goodput.SLOMet != nil {
		t.Errorf("goodput = %+v", s.Goodput)
	}

	d := derive(m)
	for _, name := range MetricNames {
		st, v := statsOf(s, name), d.of(name)
		// vLLM's own numbers, verbatim.
		for stat, got := range map[string]*float64{"mean": st.Mean, "median": st.Median, "std": st.Std, "p50": st.P50, "p90": st.P90, "p99": st.P99} {
			if want := m[stat+"_"+name+"_ms"].(float64); val(got) != want {
				t.Errorf("%s %s = %v, vLLM reported %v", name, stat, val(got), want)
			}
		}
		// The rest, from the arrays.
		if st.Count != len(v) {
			t.Errorf("%s count = %d, arrays give %d", name, st.Count, len(v))
		}
		sorted := append([]float64(nil), v...)
		sort.Float64s(sorted)
		for stat, c := range map[string]struct{ got, want float64 }{
			"min": {val(st.Min), sorted[0]}, "max": {val(st.Max), sorted[len(sorted)-1]},
			"p95": {val(st.P95), pct(v, 95)}, "p999": {val(st.P999), pct(v, 99.9)},
		} {
			if !near(c.got, c.want, 1e-12) {
				t.Errorf("%s %s = %v, arrays give %v", name, stat, c.got, c.want)
			}
		}
		// The re-derivation agrees with what vLLM computed from the same
		// requests. E2EL (and TPOT, which uses it) differ by the sub-µs gap
		// between vLLM's chunk timestamp and its second clock read for TTFT.
		rel := 1e-12
		if name == "e2el" || name == "tpot" {
			rel = 1e-6
		}
		if !near(mean(v), val(st.Mean), rel) || !near(pct(v, 99), val(st.P99), rel) || !near(pct(v, 50), val(st.Median), rel) {
			t.Errorf("%s: arrays give mean %v p50 %v p99 %v; vLLM reported %v %v %v", name, mean(v), pct(v, 50), pct(v, 99), val(st.Mean), val(st.Median), val(st.P99))
		}
	}
	// ITL pools every gap: one per output chunk after the first.
	if s.ITL.Count != s.TotalOutputTokens-s.Completed {
		t.Errorf("itl count %d, want %d (one chunk per token in this run)", s.ITL.Count, s.TotalOutputTokens-s.Completed)
	}
}

// TestToSummaryVariants runs edited copies of the detailed fixture.
func TestToSummaryVariants(t *testing.T) {
	fail := func(m map[string]any, i int, msg string) {
		out := int(m["output_lens"].([]any)[i].(float64))
		in := int(m["input_lens"].([]any)[i].(float64))
		m["errors"].([]any)[i] = msg
		m["ttfts"].([]any)[i] = 0.0
		m["itls"].([]any)[i] = []any{}
		m["output_lens"].([]any)[i] = 0
		m["completed"] = m["completed"].(float64) - 1
		m["total_output_tokens"] = m["total_output_tokens"].(float64) - float64(out)
		m["total_input_tokens"] = m["total_input_tokens"].(float64) - float64(in)
	}
	tests := []struct {
		name  string
		edit  func(m map[string]any)
		check func(t *testing.T, m map[string]any, s bench.Summary)
		err   string
	}{
		{"failures", func(m map[string]any) {
			fail(m, 3, "Traceback (most recent call last):\n  File \"x.py\", line 1\naiohttp.client_exceptions.ServerDisconnectedError: Server disconnected\n")
			fail(m, 5, "Not Found")
			fail(m, 6, "") // HTTP error without a reason phrase
		}, func(t *testing.T, m map[string]any, s bench.Summary) {
			want := map[string]int{"error: aiohttp.client_exceptions.ServerDisconnectedError": 1, "error: Not Found": 1, "error: HTTP error without a reason phrase": 1}
			if s.Failed != 3 || s.Completed != 5 || len(s.FailuresByReason) != 3 {
				t.Errorf("failed %d completed %d reasons %v", s.Failed, s.Completed, s.FailuresByReason)
			}
			for k, n := range want {
				if s.FailuresByReason[k] != n {
					t.Errorf("reasons = %v, want %v", s.FailuresByReason, want)
				}
			}
			d := derive(m)
			if s.TTFT.Count != 5 || s.E2EL.Count != 5 || s.ITL.Count != len(d.itl) || !near(val(s.TTFT.Max), pct(d.ttft, 100), 1e-12) {
				t.Errorf("counts %d %d %d, max %v", s.TTFT.Count, s.E2EL.Count, s.ITL.Count, val(s.TTFT.Max))
			}
		}, ""},
		{"rate level", func(m map[string]any) { m["request_rate"] = 2.5 }, func(t *testing.T, _ map[string]any, s bench.Summary) {
			if s.Level != (bench.Level{Kind: "rate", Value: 2.5}) {
				t.Errorf("level = %+v", s.Level)
			}
		}, ""},
		{"unbounded concurrency", func(m map[string]any) { m["max_concurrency"] = nil }, func(t *testing.T, m map[string]any, s bench.Summary) {
			if s.Level != (bench.Level{Kind: "concurrency", Value: m["num_prompts"].(float64)}) {
				t.Errorf("level = %+v", s.Level)
			}
		}, ""},
		{"chat", func(m map[string]any) { m["backend"] = "openai-chat" }, func(t *testing.T, _ map[string]any, s bench.Summary) {
			if s.API != "chat" {
				t.Errorf("api = %q", s.API)
			}
		}, ""},
		{"e2el not in --percentile-metrics", func(m map[string]any) {
			for _, k := range []string{"mean", "median", "std", "p50", "p90", "p99"} {
				delete(m, k+"_e2el_ms")
			}
		}, func(t *testing.T, m map[string]any, s bench.Summary) {
			v := derive(m).e2el
			if !near(val(s.E2EL.Mean), mean(v), 1e-12) || !near(val(s.E2EL.P90), pct(v, 90), 1e-12) || s.E2EL.Count != len(v) {
				t.Errorf("e2el = mean %v p90 %v, arrays give %v %v", val(s.E2EL.Mean), val(s.E2EL.P90), mean(v), pct(v, 90))
			}
		}, ""},
		{"vLLM's p95, p99.9, p0, p100 win", func(m map[string]any) {
			m["p95_ttft_ms"], m["p99.9_ttft_ms"], m["p0_ttft_ms"], m["p100_ttft_ms"] = 111.0, 222.0, 1.0, 999.0
		}, func(t *testing.T, _ map[string]any, s bench.Summary) {
			if val(s.TTFT.P95) != 111 || val(s.TTFT.P999) != 222 || val(s.TTFT.Min) != 1 || val(s.TTFT.Max) != 999 {
				t.Errorf("ttft = p95 %v p999 %v min %v max %v", val(s.TTFT.P95), val(s.TTFT.P999), val(s.TTFT.Min), val(s.TTFT.Max))
			}
		}, ""},
		{"one-token outputs have no TPOT", func(m map[string]any) {
			for i := range m["output_lens"].([]any) {
				m["output_lens"].([]any)[i] = 1.0
			}
			m["total_output_tokens"] = m["num_prompts"]
			for _, k := range []string{"mean", "median", "std", "p50", "p90", "p99"} {
				m[k+"_tpot_ms"] = 0.0 // numpy's statistics of vLLM's placeholder [0]
			}
		}, func(t *testing.T, _ map[string]any, s bench.Summary) {
			if s.TPOT.Count != 0 || s.TPOT.Mean != nil || s.TPOT.P99 != nil {
				t.Errorf("tpot = %+v, want all null", s.TPOT)
			}
		}, ""},
		{"ramp-up", func(m map[string]any) {
			m["ramp_up_strategy"], m["ramp_up_start_rps"], m["ramp_up_end_rps"] = "linear", 1, 8
		},
			nil, "ramp-up run (linear, 1 to 8 req/s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := raw(t, detailedFile)
			tt.edit(m)
			r := mustParse(t, "edited.json", encode(t, m))
			s, err := ToSummary(r, Options{Location: time.UTC})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "edited.json: ") {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			validate(t, s)
			if s.RunID != "vllm-bench-"+m["date"].(string) || s.Experiment != "vllm-bench" {
				t.Errorf("defaults: run %q experiment %q", s.RunID, s.Experiment)
			}
			tt.check(t, m, s)
		})
	}
}

func TestToSummaryNotDetailed(t *testing.T) {
	m := raw(t, reducedFile)
	b, _ := os.ReadFile(reducedFile)
	s, err := ToSummary(mustParse(t, reducedFile, b), Options{Location: time.UTC})
	if !errors.Is(err, ErrNotDetailed) || !strings.Contains(err.Error(), reducedFile) || !strings.Contains(err.Error(), "--save-detailed") {
		t.Fatalf("error = %v, want ErrNotDetailed naming the file", err)
	}
	// What vLLM reported is still there, verbatim; the rest is unknown.
	for _, name := range MetricNames {
		st := statsOf(s, name)
		if val(st.Mean) != m["mean_"+name+"_ms"].(float64) || val(st.P99) != m["p99_"+name+"_ms"].(float64) || val(st.P90) != m["p90_"+name+"_ms"].(float64) {
			t.Errorf("%s: %+v", name, st)
		}
		if st.P95 != nil || st.P999 != nil || st.Min != nil || st.Max != nil {
			t.Errorf("%s: invented statistics %+v", name, st)
		}
	}
	if s.TTFT.Count != int(m["completed"].(float64)) || s.ITL.Count != 0 || s.Failed != int(m["num_prompts"].(float64)-m["completed"].(float64)) {
		t.Errorf("counts: ttft %d itl %d failed %d", s.TTFT.Count, s.ITL.Count, s.Failed)
	}

	// Nothing completed: every statistic is null, and that the schema accepts.
	m["completed"], m["total_input_tokens"], m["total_output_tokens"] = 0, 0, 0
	m["request_throughput"], m["output_throughput"], m["total_token_throughput"] = 0, 0, 0
	s, err = ToSummary(mustParse(t, "none.json", encode(t, m)), Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, s)
	if s.Failed != 8 || s.FailuresByReason["error"] != 8 || s.TTFT.Mean != nil || s.E2EL.Count != 0 {
		t.Errorf("all failed: %+v", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, file := range []string{detailedFile, reducedFile} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"date":"20260101-000000","model_id":"m","num_prompts":1,"request_rate":1e308,"duration":1e300,"completed":1,"total_input_tokens":0,"total_output_tokens":0,"request_throughput":0,"output_throughput":0,"total_token_throughput":0,"ttfts":[1],"itls":[[]],"input_lens":[0],"output_lens":[0],"errors":[""]}`))
	f.Add([]byte(`{"p1e5_ttft_ms": 3, "max_concurrency": -1, "ttfts": null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse("fuzz.json", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json: ") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		s, err := ToSummary(r, Options{Location: time.UTC})
		if err == nil && s.Source != Source {
			t.Errorf("source %q", s.Source)
		}
	})
}
