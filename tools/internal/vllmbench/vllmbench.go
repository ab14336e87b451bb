// Package vllmbench reads the result files of vLLM's own benchmark client,
// `vllm bench serve --save-result [--save-detailed]`, and turns each into a
// Forge level summary (schema forge.bench.summary/v1, source "vllm-bench"),
// so that Forge's measurements can be cross-checked against vLLM's (parity.go).
//
// The file format is the one written by vllm/benchmarks/serve.py (vLLM
// 0.11): one JSON object per run, one run per load level. Times in the
// per-request arrays (ttfts, itls) are in seconds; the aggregates whose names
// end in _ms are in milliseconds. --save-detailed keeps the per-request arrays
// (input_lens, output_lens, ttfts, itls, generated_texts, errors); without it
// they are removed.
package vllmbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// Source is the summary's "source" for imported vLLM results.
const Source = "vllm-bench"

// DateLayout is the layout of the file's "date" field (Python's
// "%Y%m%d-%H%M%S", local time of the machine that ran vllm bench serve).
const DateLayout = "20060102-150405"

// Result is one `vllm bench serve` result file, every field typed. Pointer
// fields are the ones vLLM writes as null or leaves out in some runs; the
// per-request arrays are nil unless the run used --save-detailed.
type Result struct {
	Name string // the file, as given to Parse, for messages

	// Setup.
	Date           string   // "date": local wall-clock time when the file was written (DateLayout)
	EndpointType   string   // "endpoint_type": the --backend again, kept by vLLM for compatibility
	Backend        string   // "backend": request function (vllm, openai: /v1/completions; openai-chat: /v1/chat/completions; …)
	Label          *string  // "label": --label, or null
	ModelID        string   // "model_id": --model
	TokenizerID    string   // "tokenizer_id": --tokenizer, defaulting to --model
	NumPrompts     int      // "num_prompts": --num-prompts
	RequestRate    Rate     // "request_rate": --request-rate, the string "inf" or a number (req/s)
	Burstiness     *float64 // "burstiness": gamma shape of the arrival gaps (1: Poisson)
	MaxConcurrency *int     // "max_concurrency": --max-concurrency, null when unbounded
	RampUpStrategy *string  // "ramp_up_strategy": present only for ramp-up runs
	RampUpStartRPS *float64 // "ramp_up_start_rps"
	RampUpEndRPS   *float64 // "ramp_up_end_rps"

	// Aggregates (seconds, counts, per-second rates).
	Duration              float64  // "duration": benchmark wall time in seconds (see ToSummary)
	Completed             int      // "completed": successful requests
	TotalInputTokens      int      // "total_input_tokens": prompt tokens of successful requests
	TotalOutputTokens     int      // "total_output_tokens": output tokens of successful requests
	RequestThroughput     float64  // "request_throughput": completed / duration
	RequestGoodput        *float64 // "request_goodput": null unless --goodput was given
	OutputThroughput      float64  // "output_throughput": total_output_tokens / duration
	TotalTokenThroughput  float64  // "total_token_throughput": (input + output tokens) / duration
	MaxOutputTokensPerS   *float64 // "max_output_tokens_per_s": busiest one-second bucket of token arrivals
	MaxConcurrentRequests *int     // "max_concurrent_requests": most requests active in any one-second bucket

	// Latency aggregates in milliseconds, keyed "ttft", "tpot", "itl",
	// "e2el"; only the metrics of --percentile-metrics (default
	// ttft,tpot,itl) are present.
	Metrics map[string]Metric

	// Per-request arrays, one entry per request in dispatch order
	// (--save-detailed only).
	InputLens      []int       // "input_lens": prompt tokens
	OutputLens     []int       // "output_lens": output tokens (0 for failed requests)
	TTFTs          []float64   // "ttfts": seconds to the first chunk with choices (0 when none came)
	ITLs           [][]float64 // "itls": seconds between consecutive chunks with choices
	GeneratedTexts []string    // "generated_texts"
	Errors         []string    // "errors": "" for a success

	RPSChangeEvents []RPSChange // "rps_change_events": ramp-up runs only

	// Extra holds every other top-level key (--metadata KEY=VALUE pairs and
	// anything a newer vLLM adds), undecoded.
	Extra map[string]json.RawMessage
}

// Rate is "request_rate": Inf for "inf" (every request dispatched at once,
// bounded only by max_concurrency), else requests per second.
type Rate struct {
	Inf   bool
	Value float64
}

func (r Rate) String() string {
	if r.Inf {
		return "inf"
	}
	return strconv.FormatFloat(r.Value, 'g', -1, 64)
}

// Metric is one latency metric's aggregates as vLLM wrote them, in ms:
// mean_X_ms, median_X_ms, std_X_ms and pP_X_ms for each --metric-percentiles
// value P (default 99).
type Metric struct {
	Mean, Median, Std *float64
	Percentiles       []Percentile // sorted by P
}

// Percentile is one pP_X_ms field: P as vLLM spells it in the key ("99",
// "99.9") and its value in ms.
type Percentile struct {
	P     float64
	Key   string
	Value float64
}

// At returns the value of percentile p, if vLLM reported it.
func (m Metric) At(p float64) *float64 {
	for _, q := range m.Percentiles {
		if q.P == p {
			v := q.Value
			return &v
		}
	}
	return nil
}

// RPSChange is one entry of "rps_change_events" (ramp-up runs).
type RPSChange struct {
	RPS       float64 `json:"rps"`
	Timestamp string  `json:"timestamp"`
}

// MetricNames are vLLM's latency metrics in its own order.
var MetricNames = []string{"ttft", "tpot", "itl", "e2el"}

// Detailed reports whether the file carries the per-request arrays.
func (r *Result) Detailed() bool { return r.TTFTs != nil }

var (
	aggKey = regexp.MustCompile(`^(mean|median|std)_(ttft|tpot|itl|e2el)_ms$`)
	pctKey = regexp.MustCompile(`^p([0-9]+(?:\.[0-9]+)?)_(ttft|tpot|itl|e2el)_ms$`)
)

// Parse decodes one result file. name is used in messages only. It checks
// types, required fields (date, model_id, num_prompts, request_rate,
// duration, completed, the token totals and the three throughputs) and the
// consistency of the per-request arrays with the aggregates, and never
// panics.
func Parse(name string, b []byte) (*Result, error) {
	fail := func(format string, args ...any) (*Result, error) {
		return nil, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if dec.Decode(&first) == nil && bytes.HasPrefix(bytes.TrimSpace(b[dec.InputOffset():]), []byte("{")) {
		return fail("holds more than one result (vllm bench serve --append-result); split it into one file per run")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(b, se.Offset)
			return fail("not valid JSON at line %d, column %d: %v", line, col, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fail("not a vllm bench serve result: the file is %s, want a JSON object", jsonKind(bytes.TrimSpace(b)))
		}
		return fail("not valid JSON: %v", err)
	}
	if raw == nil {
		return fail("not a vllm bench serve result: the file is null, want a JSON object")
	}
	d := &decoder{raw: raw, seen: map[string]bool{}}
	r := &Result{Name: name, Metrics: map[string]Metric{}}

	d.str("date", &r.Date, true)
	d.str("endpoint_type", &r.EndpointType, false)
	d.str("backend", &r.Backend, false)
	optional(d, "label", "a string", &r.Label)
	d.str("model_id", &r.ModelID, true)
	d.str("tokenizer_id", &r.TokenizerID, false)
	value(d, "num_prompts", "an integer", &r.NumPrompts, true)
	d.rate("request_rate", &r.RequestRate)
	optional(d, "burstiness", "a number", &r.Burstiness)
	optional(d, "max_concurrency", "an integer", &r.MaxConcurrency)
	optional(d, "ramp_up_strategy", "a string", &r.RampUpStrategy)
	optional(d, "ramp_up_start_rps", "a number", &r.RampUpStartRPS)
	optional(d, "ramp_up_end_rps", "a number", &r.RampUpEndRPS)

	value(d, "duration", "a number", &r.Duration, true)
	value(d, "completed", "an integer", &r.Completed, true)
	value(d, "total_input_tokens", "an integer", &r.TotalInputTokens, true)
	value(d, "total_output_tokens", "an integer", &r.TotalOutputTokens, true)
	value(d, "request_throughput", "a number", &r.RequestThroughput, true)
	optional(d, "request_goodput", "a number", &r.RequestGoodput)
	value(d, "output_throughput", "a number", &r.OutputThroughput, true)
	value(d, "total_token_throughput", "a number", &r.TotalTokenThroughput, true)
	optional(d, "max_output_tokens_per_s", "a number", &r.MaxOutputTokensPerS)
	optional(d, "max_concurrent_requests", "an integer", &r.MaxConcurrentRequests)

	d.array("input_lens", &r.InputLens, "an array of integers")
	d.array("output_lens", &r.OutputLens, "an array of integers")
	d.array("ttfts", &r.TTFTs, "an array of numbers (seconds)")
	d.array("itls", &r.ITLs, "an array of arrays of numbers (seconds)")
	d.array("generated_texts", &r.GeneratedTexts, "an array of strings")
	d.array("errors", &r.Errors, "an array of strings")
	d.array("rps_change_events", &r.RPSChangeEvents, "an array of {rps, timestamp} objects")

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d.seen[k] {
			continue
		}
		if m := aggKey.FindStringSubmatch(k); m != nil {
			var v *float64
			optional(d, k, "a number", &v)
			if v == nil {
				continue
			}
			mt := r.Metrics[m[2]]
			switch m[1] {
			case "mean":
				mt.Mean = v
			case "median":
				mt.Median = v
			case "std":
				mt.Std = v
			}
			r.Metrics[m[2]] = mt
			continue
		}
		if m := pctKey.FindStringSubmatch(k); m != nil {
			var v *float64
			optional(d, k, "a number", &v)
			p, err := strconv.ParseFloat(m[1], 64)
			if v == nil || err != nil || p > 100 {
				if err == nil && p > 100 {
					d.errs = append(d.errs, fmt.Sprintf("%q: percentile %s is above 100", k, m[1]))
				}
				continue
			}
			mt := r.Metrics[m[2]]
			mt.Percentiles = append(mt.Percentiles, Percentile{P: p, Key: m[1], Value: *v})
			r.Metrics[m[2]] = mt
			continue
		}
		if r.Extra == nil {
			r.Extra = map[string]json.RawMessage{}
		}
		r.Extra[k] = raw[k]
	}
	for k, m := range r.Metrics {
		sort.Slice(m.Percentiles, func(i, j int) bool { return m.Percentiles[i].P < m.Percentiles[j].P })
		r.Metrics[k] = m
	}
	if len(d.errs) > 0 {
		return fail("%s", strings.Join(d.errs, "; "))
	}
	if err := r.check(); err != nil {
		return fail("%v", err)
	}
	return r, nil
}

// check verifies what the types alone do not: ranges, and that the
// per-request arrays agree with each other and with the aggregates.
func (r *Result) check() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if _, err := time.Parse(DateLayout, r.Date); err != nil {
		bad("\"date\" %q is not vLLM's YYYYMMDD-HHMMSS", r.Date)
	}
	if r.ModelID == "" {
		bad("\"model_id\" is empty")
	}
	if !(r.Duration > 0) {
		bad("\"duration\" is %v, want a positive number of seconds", r.Duration)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"num_prompts", r.NumPrompts}, {"completed", r.Completed}, {"total_input_tokens", r.TotalInputTokens}, {"total_output_tokens", r.TotalOutputTokens}} {
		if f.v < 0 {
			bad("%q is %d, want at least 0", f.name, f.v)
		}
	}
	if r.Completed > r.NumPrompts {
		bad("\"completed\" is %d but \"num_prompts\" only %d", r.Completed, r.NumPrompts)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"request_throughput", r.RequestThroughput}, {"output_throughput", r.OutputThroughput}, {"total_token_throughput", r.TotalTokenThroughput}} {
		if f.v < 0 {
			bad("%q is %v, want at least 0", f.name, f.v)
		}
	}
	if !r.RequestRate.Inf && !(r.RequestRate.Value > 0) {
		bad("\"request_rate\" is %v, want \"inf\" or a positive number", r.RequestRate.Value)
	}
	if r.MaxConcurrency != nil && *r.MaxConcurrency < 1 {
		bad("\"max_concurrency\" is %d, want null or at least 1", *r.MaxConcurrency)
	}
	arrays := []struct {
		name string
		n    int
		nil  bool
	}{{"input_lens", len(r.InputLens), r.InputLens == nil}, {"output_lens", len(r.OutputLens), r.OutputLens == nil},
		{"ttfts", len(r.TTFTs), r.TTFTs == nil}, {"itls", len(r.ITLs), r.ITLs == nil}, {"errors", len(r.Errors), r.Errors == nil}}
	var present, missing []string
	for _, a := range arrays {
		if a.nil {
			missing = append(missing, a.name)
		} else {
			present = append(present, a.name)
		}
	}
	if len(present) > 0 && len(missing) > 0 {
		bad("has per-request arrays %s but not %s (--save-detailed writes all of them)", strings.Join(present, ", "), strings.Join(missing, ", "))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	if len(missing) > 0 {
		return nil // no per-request arrays: nothing more to check
	}
	n := len(r.TTFTs)
	for _, a := range arrays {
		if a.n != n {
			bad("per-request arrays differ in length: ttfts has %d entries, %s %d", n, a.name, a.n)
		}
	}
	if r.GeneratedTexts != nil && len(r.GeneratedTexts) != n {
		bad("per-request arrays differ in length: ttfts has %d entries, generated_texts %d", n, len(r.GeneratedTexts))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	ok, in, out := 0, 0, 0
	for i := range n {
		if r.TTFTs[i] < 0 {
			bad("ttfts[%d] is negative (%v s)", i, r.TTFTs[i])
		}
		for j, g := range r.ITLs[i] {
			if g < 0 {
				bad("itls[%d][%d] is negative (%v s)", i, j, g)
			}
		}
		if r.InputLens[i] < 0 || r.OutputLens[i] < 0 {
			bad("request %d has a negative token count", i)
		}
		if r.succeeded(i) {
			ok++
			in += r.InputLens[i]
			out += r.OutputLens[i]
		}
	}
	if ok != r.Completed {
		bad("%d requests have an empty error and a first token, but \"completed\" is %d", ok, r.Completed)
	}
	if ok == r.Completed && in != r.TotalInputTokens {
		bad("input_lens of the successful requests sum to %d, but \"total_input_tokens\" is %d", in, r.TotalInputTokens)
	}
	if ok == r.Completed && out != r.TotalOutputTokens {
		bad("output_lens of the successful requests sum to %d, but \"total_output_tokens\" is %d", out, r.TotalOutputTokens)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// succeeded says whether request i succeeded. vLLM's file does not record
// success itself: a success has an empty error and a first token (ttft > 0,
// set when the first chunk with choices arrived); a failure has its error
// text, except an HTTP error whose reason phrase was empty, which has an
// empty error and a ttft of 0.
func (r *Result) succeeded(i int) bool { return r.Errors[i] == "" && r.TTFTs[i] > 0 }

// Level is the load level the run measured: with request_rate "inf", a
// closed loop of max_concurrency requests in flight (num_prompts when
// max_concurrency is null: vLLM then dispatches every request at once);
// otherwise an open loop at request_rate (a max_concurrency cap on it is not
// part of Forge's level). Ramp-up runs have no single level.
func (r *Result) Level(index int) (bench.Level, error) {
	if r.RampUpStrategy != nil {
		return bench.Level{}, fmt.Errorf("%s: a ramp-up run (%s, %s to %s req/s) changes its rate during the run, so it is no single load level",
			r.Name, *r.RampUpStrategy, fmtOpt(r.RampUpStartRPS), fmtOpt(r.RampUpEndRPS))
	}
	if !r.RequestRate.Inf {
		return bench.Level{Kind: "rate", Value: r.RequestRate.Value, Index: index}, nil
	}
	if r.MaxConcurrency != nil {
		return bench.Level{Kind: "concurrency", Value: float64(*r.MaxConcurrency), Index: index}, nil
	}
	if r.NumPrompts < 1 {
		return bench.Level{}, fmt.Errorf("%s: request_rate inf, no max_concurrency and no prompts: no load level", r.Name)
	}
	return bench.Level{Kind: "concurrency", Value: float64(r.NumPrompts), Index: index}, nil
}

// Options are what a vLLM result file does not say about itself.
type Options struct {
	RunID      string           // default "vllm-bench-<date>"
	Experiment string           // default "vllm-bench"
	Provenance bench.Provenance // empty fields are filled (see ToSummary)
	Index      int              // the level's index among the imported levels (file name prefix)
	Location   *time.Location   // zone of the file's "date"; nil: time.Local
}

// ErrNotDetailed is wrapped by ToSummary's error for a file written without
// --save-detailed whose statistics the summary schema cannot accept.
var ErrNotDetailed = errors.New("written without --save-detailed")

// ToSummary turns a result into a Forge level summary. Where each field
// comes from:
//
//	schema, source, predicted   forge.bench.summary/v1, "vllm-bench", false
//	run_id, experiment          Options (defaults "vllm-bench-<date>", "vllm-bench")
//	level                       Result.Level(Options.Index)
//	finished_at                 "date" read in Options.Location: vLLM takes it after the run and after
//	                            computing its metrics, to the second, so it is up to ~1 s early or a
//	                            little late
//	started_at                  finished_at − duration (as approximate)
//	duration_s                  "duration" verbatim: vLLM's wall time from just before its dispatch loop to
//	                            after the last request returned, so it also counts dispatch and gather
//	                            overhead and, at a rate level, the first request's own arrival gap (mean
//	                            1/rate) — not Forge's first send to last completion. The ready-check
//	                            request sent before it is excluded.
//	num_prompts, completed      "num_prompts", "completed" verbatim
//	failed                      requests that did not succeed (non-empty error, or an empty error with no
//	                            first token) with the arrays; num_prompts − completed without them
//	failures_by_reason          "error: " + the head of each error's last line (the exception for a
//	                            traceback); one "error" class without the arrays
//	warmup, late_sends          0: vLLM's one ready-check request is not recorded, nor late sends
//	incomplete                  false
//	*_throughput, total_*_tokens  verbatim
//	goodput.request_rate        "request_goodput" verbatim (null without --goodput); slo {} and slo_met
//	                            null: vLLM does not save its --goodput thresholds
//	api                         completions for backends vllm/openai, chat for openai-chat, else absent
//	ttft_ms, tpot_ms, itl_ms, e2el_ms
//	                            mean, median, std and the percentiles vLLM reported (p50, p90, p95, p99,
//	                            p99.9; p0 and p100 as min and max) verbatim from its *_ms fields; with the
//	                            arrays, the rest (min, max, missing percentiles, count, and whole metrics
//	                            vLLM did not report, e.g. e2el without --percentile-metrics e2el) from
//	                            bench.Summarize over values re-derived from the successful requests as vLLM
//	                            defines them: ttft = ttfts[i]·1000; itl = every itls[i][j]·1000, pooled;
//	                            e2el = (ttfts[i] + Σ itls[i])·1000; tpot = Σ itls[i]·1000 / (output_lens[i] − 1)
//	                            for output_lens[i] > 1. A metric with no samples is all null (vLLM writes 0,
//	                            numpy's mean of its placeholder [0], not a measurement). These are vLLM's
//	                            client's definitions, not Forge's: its TTFT ends at the first chunk with
//	                            choices, which in chat is the role-only chunk (Forge waits for content),
//	                            and its ITLs are per chunk, not per token.
//	server                      absent
//	provenance                  Options.Provenance; empty fields filled: forge_version/commit of this build,
//	                            engine, gpu and gpu_source "unknown", model_repo and served_model "model_id"
//
// Without the arrays (no --save-detailed), min, max, p95, p99.9 and the
// sample counts are unknown and the schema cannot accept the summary:
// ToSummary returns what it could fill together with an error wrapping
// ErrNotDetailed (unless no request completed, when every statistic is null).
// Every summary it returns without error validates against the schema.
func ToSummary(r *Result, o Options) (bench.Summary, error) {
	lvl, err := r.Level(o.Index)
	if err != nil {
		return bench.Summary{}, err
	}
	loc := o.Location
	if loc == nil {
		loc = time.Local
	}
	finished, err := time.ParseInLocation(DateLayout, r.Date, loc)
	if err != nil {
		return bench.Summary{}, fmt.Errorf("%s: \"date\" %q: %v", r.Name, r.Date, err)
	}
	started := finished.Add(-time.Duration(math.Min(r.Duration, 1e9) * float64(time.Second)))
	s := bench.Summary{
		Schema: schemas.BenchSummary, RunID: or(o.RunID, "vllm-bench-"+r.Date), Experiment: or(o.Experiment, "vllm-bench"),
		Level: lvl, Source: Source, API: api(r.Backend),
		StartedAt: started.UTC().Format(time.RFC3339Nano), FinishedAt: finished.UTC().Format(time.RFC3339Nano),
		DurationS: r.Duration, NumPrompts: r.NumPrompts, Completed: r.Completed, FailuresByReason: map[string]int{},
		RequestThroughput: r.RequestThroughput, OutputThroughput: r.OutputThroughput, TotalTokenThroughput: r.TotalTokenThroughput,
		TotalInputTokens: r.TotalInputTokens, TotalOutputTokens: r.TotalOutputTokens,
		Goodput:    bench.Goodput{RequestRate: r.RequestGoodput, SLO: bench.SLO{}},
		Provenance: fillProvenance(o.Provenance, r),
	}
	derived := map[string][]float64{}
	if r.Detailed() {
		for i := range r.TTFTs {
			if !r.succeeded(i) {
				s.Failed++
				s.FailuresByReason[failureClass(r.Errors[i])]++
				continue
			}
			var sum float64
			for _, g := range r.ITLs[i] {
				sum += g
				derived["itl"] = append(derived["itl"], g*1000)
			}
			derived["ttft"] = append(derived["ttft"], r.TTFTs[i]*1000)
			derived["e2el"] = append(derived["e2el"], (r.TTFTs[i]+sum)*1000)
			if r.OutputLens[i] > 1 {
				derived["tpot"] = append(derived["tpot"], sum*1000/float64(r.OutputLens[i]-1))
			}
		}
	} else if s.Failed = max(r.NumPrompts-r.Completed, 0); s.Failed > 0 {
		s.FailuresByReason["error"] = s.Failed
	}
	stats := map[string]*bench.Stats{"ttft": &s.TTFT, "tpot": &s.TPOT, "itl": &s.ITL, "e2el": &s.E2EL}
	for _, name := range MetricNames {
		m, reported := r.Metrics[name]
		var st bench.Stats
		switch {
		case r.Detailed():
			// No samples: all null, whatever vLLM wrote (its 0s are numpy's
			// statistics of the placeholder [0]).
			if st = bench.Summarize(derived[name]); st.Count > 0 && reported {
				st = overlay(st, m)
			}
		case r.Completed > 0:
			if reported {
				st = overlay(st, m)
			}
			if name == "ttft" || name == "e2el" {
				st.Count = r.Completed // one sample per successful request, by vLLM's definition
			}
		}
		*stats[name] = st
	}
	if !r.Detailed() && r.Completed > 0 {
		return s, fmt.Errorf("%s: %w: vLLM reports no per-request arrays, so min, max, p95, p99.9 and the sample counts of TTFT, TPOT, ITL and E2EL are unknown and a Forge summary cannot be made; re-run vllm bench serve with --save-detailed", r.Name, ErrNotDetailed)
	}
	data, err := bench.EncodeSummary(s)
	if err != nil {
		return s, fmt.Errorf("%s: %v", r.Name, err)
	}
	findings, err := schemas.ValidateJSON(schemas.BenchSummary, data)
	if err != nil {
		return s, fmt.Errorf("%s: %v", r.Name, err)
	}
	if len(findings) > 0 {
		msgs := make([]string, len(findings))
		for i, f := range findings {
			msgs[i] = f.Pointer + ": " + f.Message
		}
		return s, fmt.Errorf("%s: the imported summary does not match %s: %s", r.Name, schemas.BenchSummary, strings.Join(msgs, "; "))
	}
	return s, nil
}

// overlay lays vLLM's reported aggregates over st: a value vLLM reported
// replaces the derived one, so the summary carries vLLM's own numbers.
func overlay(st bench.Stats, m Metric) bench.Stats {
	set := func(dst **float64, v *float64) {
		if v != nil {
			x := *v
			*dst = &x
		}
	}
	set(&st.Mean, m.Mean)
	set(&st.Median, m.Median)
	set(&st.Std, m.Std)
	set(&st.P50, m.At(50))
	set(&st.P90, m.At(90))
	set(&st.P95, m.At(95))
	set(&st.P99, m.At(99))
	set(&st.P999, m.At(99.9))
	set(&st.Min, m.At(0))
	set(&st.Max, m.At(100))
	return st
}

// failureClass groups vLLM's error strings as Forge groups its own: the
// head (before any colon) of the last non-empty line, which for a Python
// traceback is the exception's type.
func failureClass(e string) string {
	lines := strings.Split(strings.TrimSpace(e), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	head, _, _ := strings.Cut(last, ":")
	head = strings.TrimSpace(head)
	if head == "" {
		return "error: HTTP error without a reason phrase"
	}
	if r := []rune(head); len(r) > 80 {
		head = string(r[:80]) + "…"
	}
	return "error: " + head
}

func api(backend string) string {
	switch backend {
	case "vllm", "openai":
		return "completions"
	case "openai-chat":
		return "chat"
	}
	return ""
}

func fillProvenance(p bench.Provenance, r *Result) bench.Provenance {
	p.ForgeVersion = or(p.ForgeVersion, provenance.Version)
	p.ForgeCommit = or(p.ForgeCommit, provenance.Commit)
	p.Engine.Name = or(p.Engine.Name, "unknown")
	p.Engine.Version = or(p.Engine.Version, "unknown")
	p.GPU = or(p.GPU, "unknown")
	p.GPUSource = or(p.GPUSource, "unknown")
	p.ModelRepo = or(p.ModelRepo, r.ModelID)
	p.ServedModel = or(p.ServedModel, r.ModelID)
	return p
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fmtOpt(v *float64) string {
	if v == nil {
		return "?"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// decoder decodes the top-level fields one by one, collecting every problem.
type decoder struct {
	raw  map[string]json.RawMessage
	seen map[string]bool
	errs []string
}

func (d *decoder) get(key string, required bool) (json.RawMessage, bool) {
	d.seen[key] = true
	v, ok := d.raw[key]
	if !ok {
		if required {
			d.errs = append(d.errs, fmt.Sprintf("required field %q is missing", key))
		}
		return nil, false
	}
	return v, true
}

func (d *decoder) wrong(key, want string, v json.RawMessage) {
	d.errs = append(d.errs, fmt.Sprintf("field %q: want %s, got %s", key, want, jsonKind(v)))
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (d *decoder) str(key string, dst *string, required bool) {
	v, ok := d.get(key, required)
	if !ok {
		return
	}
	if isNull(v) {
		if required {
			d.wrong(key, "a string", v)
		}
		return
	}
	if json.Unmarshal(v, dst) != nil {
		d.wrong(key, "a string", v)
	}
}

// value decodes a number or an integer into dst; null, like a value of
// another type, is an error (what names the type in it).
func value[T any](d *decoder, key, what string, dst *T, required bool) {
	v, ok := d.get(key, required)
	if !ok {
		return
	}
	if isNull(v) || json.Unmarshal(v, dst) != nil {
		d.wrong(key, what, v)
	}
}

// optional decodes key into *dst, leaving it nil when the key is absent or
// null; a value of another type is an error.
func optional[T any](d *decoder, key, what string, dst **T) {
	v, ok := d.get(key, false)
	if !ok || isNull(v) {
		return
	}
	var x T
	if json.Unmarshal(v, &x) != nil {
		d.wrong(key, what+" or null", v)
		return
	}
	*dst = &x
}

func (d *decoder) rate(key string, dst *Rate) {
	v, ok := d.get(key, true)
	if !ok {
		return
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s == "inf" {
			dst.Inf = true
			return
		}
		d.errs = append(d.errs, fmt.Sprintf("field %q: want \"inf\" or a number, got the string %q", key, s))
		return
	}
	if isNull(v) || json.Unmarshal(v, &dst.Value) != nil {
		d.wrong(key, "\"inf\" or a number", v)
	}
}

// array decodes an optional array; null counts as absent.
func (d *decoder) array(key string, dst any, want string) {
	v, ok := d.get(key, false)
	if !ok || isNull(v) {
		return
	}
	if err := json.Unmarshal(v, dst); err != nil {
		msg := fmt.Sprintf("field %q: want %s, got %s", key, want, jsonKind(v))
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && jsonKind(v) == "an array" {
			msg = fmt.Sprintf("field %q: want %s, but an element is %s", key, want, te.Value)
		}
		d.errs = append(d.errs, msg)
	}
}

// jsonKind names the JSON type of a raw value, for messages.
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			if len(s) > 40 {
				s = s[:40] + "…"
			}
			return fmt.Sprintf("the string %q", s)
		}
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if _, err := strconv.ParseFloat(string(v), 64); err == nil {
		return "the number " + string(v)
	}
	return "a number"
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	pre := b[:off]
	line = bytes.Count(pre, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(pre, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
