// This file turns a parsed Result into Forge's level summary
// (forge.bench.summary/v1), so that vLLM's measurements sit beside Forge's in
// the same schema and parity.go can compare the two.

package vllmbench

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// Source is the summary's "source" for imported vLLM results.
const Source = "vllm-bench"

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
	RunID      string            // default "vllm-bench-<date>"
	Experiment string            // default "vllm-bench"
	Provenance provenance.Record // empty fields are filled (see ToSummary)
	Index      int               // the level's index among the imported levels (file name prefix)
	Location   *time.Location    // zone of the file's "date"; nil: time.Local
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
		Schema: schemas.BenchSummary, RunID: cmp.Or(o.RunID, "vllm-bench-"+r.Date), Experiment: cmp.Or(o.Experiment, "vllm-bench"),
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

func fillProvenance(p provenance.Record, r *Result) provenance.Record {
	p.ForgeVersion = cmp.Or(p.ForgeVersion, buildinfo.Version)
	p.ForgeCommit = cmp.Or(p.ForgeCommit, buildinfo.Commit)
	p.Engine.Name = cmp.Or(p.Engine.Name, "unknown")
	p.Engine.Version = cmp.Or(p.Engine.Version, "unknown")
	p.GPU = cmp.Or(p.GPU, "unknown")
	p.GPUSource = cmp.Or(p.GPUSource, "unknown")
	p.ModelRepo = cmp.Or(p.ModelRepo, r.ModelID)
	p.ServedModel = cmp.Or(p.ServedModel, r.ModelID)
	return p
}

func fmtOpt(v *float64) string {
	if v == nil {
		return "?"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}
