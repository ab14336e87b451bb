// This file holds the typed form of one result file of `vllm bench serve
// --save-result [--save-detailed]`: what vLLM wrote, field by field, and
// nothing derived from it; decode.go fills it, summary.go reads it.

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
	"encoding/json"
	"strconv"
)

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

// succeeded says whether request i succeeded. vLLM's file does not record
// success itself: a success has an empty error and a first token (ttft > 0,
// set when the first chunk with choices arrived); a failure has its error
// text, except an HTTP error whose reason phrase was empty, which has an
// empty error and a ttft of 0.
func (r *Result) succeeded(i int) bool { return r.Errors[i] == "" && r.TTFTs[i] > 0 }
