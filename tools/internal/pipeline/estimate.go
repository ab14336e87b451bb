package pipeline

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/twin"
)

// Phase is one part of a run, sized from the plan: the requests it sends,
// their tokens, and the twin's time for them.
type Phase struct {
	Name         string
	Requests     int
	InputTokens  int64
	OutputTokens int64
	Seconds      float64
}

// Estimate is what a run of the plan costs before it is rented:
// forge plan --estimate. It prices the server's time only; setting up the
// machine (venvs, the model download) and the server's start are not in it.
type Estimate struct {
	Experiment string
	USDPerHour float64
	Phases     []Phase
	Notes      []string
}

// Hours is the estimate's total time.
func (e Estimate) Hours() float64 {
	var s float64
	for _, p := range e.Phases {
		s += p.Seconds
	}
	return s / 3600
}

// Write prints the estimate as a table, a row per phase, then its notes.
func (e Estimate) Write(w io.Writer) {
	fmt.Fprintf(w, "estimate %s at $%.2f/h\n", e.Experiment, e.USDPerHour)
	fmt.Fprintf(w, "%-28s %9s %14s %14s %8s %9s\n", "phase", "requests", "input tokens", "output tokens", "hours", "USD")
	var req int
	var in, out int64
	for _, p := range e.Phases {
		h := p.Seconds / 3600
		fmt.Fprintf(w, "%-28s %9d %14d %14d %8.2f %9.2f\n", p.Name, p.Requests, p.InputTokens, p.OutputTokens, h, h*e.USDPerHour)
		req, in, out = req+p.Requests, in+p.InputTokens, out+p.OutputTokens
	}
	fmt.Fprintf(w, "%-28s %9d %14d %14d %8.2f %9.2f\n", "total", req, in, out, e.Hours(), e.Hours()*e.USDPerHour)
	for _, n := range e.Notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

// CharsPerToken converts the eval prompts' characters into tokens: English
// text under Llama 3's tokenizer runs about 4 characters a token.
const CharsPerToken = 4.0

// EstimatePlan sizes every phase of a run of p: each sweep level as the
// twin predicts it on the very requests forge bench would send (warmup
// included), and each eval task from its pinned data (exact request counts,
// tokens at CharsPerToken) at the twin's step time, log-likelihood
// requests scored over every prompt token.
func EstimatePlan(ctx context.Context, p *plan.Plan) (Estimate, error) {
	est := Estimate{Experiment: p.Experiment, USDPerHour: p.Hardware.Price.USDPerHour}
	_, sums, err := Predict(ctx, p, "estimate")
	if err != nil {
		return Estimate{}, err
	}
	for _, s := range sums {
		warm := float64(p.Sweep.Warmup) / math.Max(float64(s.Completed), 1)
		est.Phases = append(est.Phases, Phase{Name: "sweep " + bench.LevelName(s.Level), Requests: s.Completed + p.Sweep.Warmup,
			InputTokens: int64(float64(s.TotalInputTokens) * (1 + warm)), OutputTokens: int64(float64(s.TotalOutputTokens) * (1 + warm)),
			Seconds: s.DurationS * (1 + warm)})
	}
	est.Notes = append(est.Notes, fmt.Sprintf("sweep: the twin's prediction (simulated, not measured) for %s on %s", p.Model.Name, p.Hardware.GPU))
	if p.Eval == nil {
		return est, nil
	}
	cfg := twin.ConfigFromPlan(p, twin.DefaultEfficiency)
	for _, t := range p.Eval.Tasks {
		sz, err := eval.TaskSize(t, resolveDataset(ctx))
		if err != nil {
			return Estimate{}, err
		}
		in := int64(float64(sz.PromptChars) / CharsPerToken)
		ph := Phase{Name: fmt.Sprintf("eval %s %d-shot", t.Name, t.Shots), Requests: sz.Requests, InputTokens: in,
			Seconds: prefillSeconds(cfg, in, sz.GenerateTokens == 0)}
		if sz.GenerateTokens > 0 {
			ph.OutputTokens = int64(sz.Requests * sz.GenerateTokens)
			ph.Seconds += decodeSeconds(cfg, sz.Requests, sz.GenerateTokens, p.Eval.NumConcurrent, int(in)/max(sz.Requests, 1))
		}
		est.Phases = append(est.Phases, ph)
	}
	est.Notes = append(est.Notes,
		fmt.Sprintf("eval: request counts from the pinned data; tokens at %.0f characters a token; time from the twin's step model (prompt log-probabilities over every token of a log-likelihood request; generations at their limit)", CharsPerToken),
		"not included: setting up the machine (venvs, the model download) and each server start (a few minutes)")
	return est, nil
}

// prefillSeconds is the twin's time to prefill tokens in full chunks of
// max_num_batched_tokens, computing logits for every token when scoring.
func prefillSeconds(c twin.Config, tokens int64, allLogits bool) float64 {
	chunk := int64(max(c.MaxBatchedTokens, 1))
	steps := tokens / chunk
	logits := 1
	if allLogits {
		logits = int(chunk)
	}
	full := c.StepSeconds(twin.Batch{PrefillLen: []int{int(chunk)}, PrefillCtx: []int{0}, Logits: logits})
	rest := tokens - steps*chunk
	s := float64(steps) * full
	if rest > 0 {
		if allLogits {
			logits = int(rest)
		}
		s += c.StepSeconds(twin.Batch{PrefillLen: []int{int(rest)}, PrefillCtx: []int{0}, Logits: logits})
	}
	return s
}

// decodeSeconds is the twin's time for requests generations of n tokens
// each, concurrency at a time, at a context of ctx tokens.
func decodeSeconds(c twin.Config, requests, n, concurrency, ctx int) float64 {
	batch := min(max(concurrency, 1), max(c.MaxNumSeqs, 1))
	dec := make([]int, batch)
	for i := range dec {
		dec[i] = ctx + n/2
	}
	waves := (requests + batch - 1) / batch
	return float64(waves*n) * c.StepSeconds(twin.Batch{DecodeCtx: dec, Logits: batch})
}
