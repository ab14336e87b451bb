// Package pipeline is `forge run` as a library: plan → run directory →
// engine → bench (+ parity) → eval → prediction → cost → charts and report,
// with the run's state recorded at every step. `forge run`, `forge eval`,
// `forge observe up` and the rehearsal call it; cli only parses flags and
// prints. It is also the one owner of "the measured requests of a level",
// so the benchmark, the twin's prediction and vLLM's own client in a parity
// run send the very same request sequence.
package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/workload"
)

// Sequence is a sweep's request sequence: the warmup requests first, then
// the measured ones, generated as one sequence of warmup+measured requests.
// Every level sends Warmup (unrecorded) then Measured, and the prediction
// and vLLM's client in a parity run take the very same Measured slice, so
// all of them carry one request_sequence_sha256 (Set.SHA256).
type Sequence struct {
	Warmup, Measured []bench.Prompt
	Set              *workload.Set // the whole generated sequence; its SHA256 is request_sequence_sha256
	Spec             workload.Spec // what it was generated from (NumPrompts: the measured requests)
}

// Generate makes the sequence of spec (NumPrompts measured requests) with
// warmup requests before them.
func Generate(spec workload.Spec, warmup int) (Sequence, error) {
	if spec.NumPrompts < 1 || warmup < 0 {
		return Sequence{}, fmt.Errorf("want at least 1 measured request and no negative warmup, got %d and %d", spec.NumPrompts, warmup)
	}
	measured := spec
	spec.NumPrompts += warmup
	ws, err := workload.GenerateCached(spec, SequenceCacheDir(), generatorBuild())
	if err != nil {
		return Sequence{}, fmt.Errorf("workload: %w", err)
	}
	if len(ws.Requests) < warmup {
		return Sequence{}, fmt.Errorf("workload: %d requests generated, fewer than the %d warmup requests", len(ws.Requests), warmup)
	}
	prompts := make([]bench.Prompt, len(ws.Requests))
	for i, r := range ws.Requests {
		prompts[i] = bench.Prompt{Index: r.Index, Text: r.Prompt, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens}
	}
	s := Sequence{Warmup: prompts[:warmup], Measured: prompts[warmup:], Set: ws, Spec: measured}
	for i := range s.Measured {
		s.Measured[i].Index = i
	}
	return s, nil
}

// SequenceCacheDir holds built request sequences by key
// (workload.GenerateCached): $FORGE_SEQUENCE_CACHE, else .cache/sequences.
func SequenceCacheDir() string {
	return cmp.Or(os.Getenv("FORGE_SEQUENCE_CACHE"), filepath.Join(".cache", "sequences"))
}

// generatorBuild names the code that generates sequences, for the cache
// key: the commit of a clean build. A dirty or unknown build (go test, go
// run, uncommitted changes) bypasses the cache, so that a change to the
// generator can never be served a sequence the old code built.
func generatorBuild() string {
	c := buildinfo.Commit
	if c == "" || c == "unknown" || strings.HasSuffix(c, "-dirty") {
		return ""
	}
	return c
}

// PlanSequence is the plan's request sequence, its dataset resolved by
// sha256.
func PlanSequence(ctx context.Context, p *plan.Plan) (Sequence, error) {
	spec, err := WorkloadSpec(ctx, p)
	if err != nil {
		return Sequence{}, err
	}
	return Generate(spec, p.Sweep.Warmup)
}

// WorkloadSpec is the plan's workload, its dataset resolved by sha256 and,
// for a converted checkpoint, its tokenizer used to count lengths as vLLM
// does.
func WorkloadSpec(ctx context.Context, p *plan.Plan) (workload.Spec, error) {
	spec := workload.Spec{Kind: p.Workload.Kind, NumPrompts: p.Sweep.PromptsPerLevel, Seed: int64(p.Workload.Seed)}
	if p.Workload.InputTokens != nil {
		spec.InputTokens = *p.Workload.InputTokens
	}
	if p.Workload.OutputTokens != nil {
		spec.OutputTokens = *p.Workload.OutputTokens
	}
	if p.Model.Path != "" {
		if tj := filepath.Join(p.Model.Path, "tokenizer.json"); fileExists(tj) {
			spec.Tokenizer = tj
		}
	}
	if d := p.Workload.Dataset; d != nil {
		path, err := d.Resolve(ctx, data.Options{})
		if err != nil {
			return spec, err
		}
		spec.Dataset = path
	}
	return spec, nil
}

// BaseConfig is the bench configuration a plan gives, without requests:
// target, levels, SLOs and declared provenance. The caller adds a
// Sequence (UseSequence), Out, RunID, Progress and what the plan does not
// say.
func BaseConfig(p *plan.Plan) bench.Config {
	cfg := bench.Config{Experiment: p.Experiment, Burstiness: p.Sweep.Burstiness, SLO: SLO(p), Declared: Declared(p)}
	cfg.Client.BaseURL = fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	cfg.Client.Model = p.Model.ServedName
	cfg.Client.API = p.Workload.API
	cfg.Client.IgnoreEOS = p.Workload.IgnoreEOS
	if p.Sweep.MaxConcurrency != nil {
		cfg.MaxConcurrency = *p.Sweep.MaxConcurrency
	}
	if p.Sweep.MaxDurationS != nil {
		cfg.MaxDuration = time.Duration(*p.Sweep.MaxDurationS * float64(time.Second))
	}
	for _, l := range p.Sweep.Levels {
		cfg.Levels = append(cfg.Levels, bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index})
	}
	cfg.Search = SearchOf(p)
	return cfg
}

// SearchOf is the plan's find-max search, nil for a sweep of fixed levels.
func SearchOf(p *plan.Plan) *bench.Search {
	s := p.Sweep.Search
	if s == nil {
		return nil
	}
	out := &bench.Search{Kind: s.Kind, Start: s.Start, Max: s.Max, Step: s.Step, MaxProbes: s.MaxProbes}
	if s.BudgetS != nil {
		out.Budget = time.Duration(*s.BudgetS * float64(time.Second))
	}
	return out
}

// BenchConfig is BaseConfig with the plan's request sequence, generated
// once and returned too, for the prediction and vLLM's client.
func BenchConfig(ctx context.Context, p *plan.Plan) (bench.Config, Sequence, error) {
	cfg := BaseConfig(p)
	seq, err := PlanSequence(ctx, p)
	if err != nil {
		return cfg, seq, err
	}
	return cfg, seq, UseSequence(&cfg, seq)
}

// UseSequence puts a sequence into a bench configuration, with the counter
// of its tokenizer.
func UseSequence(cfg *bench.Config, seq Sequence) error {
	cfg.Warmup, cfg.Prompts = seq.Warmup, seq.Measured
	cfg.TokenSource, cfg.SequenceSHA256, cfg.DatasetSHA256 = seq.Set.TokenSource, seq.Set.SHA256, seq.Set.DatasetSHA256
	counter, err := workload.NewCounter(seq.Spec.Tokenizer)
	if err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	cfg.Counter = bench.Counter{Count: counter.Count, Source: counter.Source}
	cfg.Seed = uint64(seq.Spec.Seed)
	return nil
}

// SLO turns the plan's *_p99_ms objectives into per-request thresholds.
func SLO(p *plan.Plan) bench.SLO {
	slo := bench.SLO{}
	if s := p.SLO; s != nil {
		for k, v := range map[string]*float64{"ttft_ms": s.TTFTP99Ms, "tpot_ms": s.TPOTP99Ms, "itl_ms": s.ITLP99Ms, "e2el_ms": s.E2ELP99Ms} {
			if v != nil {
				slo[k] = *v
			}
		}
	}
	return slo
}

// Declared is what the plan says about the target, for provenance.
func Declared(p *plan.Plan) provenance.Declared {
	d := provenance.Declared{EngineName: p.Engine.Kind, EngineVersion: p.Engine.Version, GPU: p.Hardware.GPU,
		ModelRepo: p.Model.Repo, ModelRevision: p.Model.Revision, PriceObserved: p.Hardware.Price.Observed, PlanHash: p.Hash}
	if p.Hardware.Device == "cpu" && p.Engine.Kind == "vllm" {
		d.EngineName = "vllm-cpu"
	}
	if p.Hardware.Count > 1 {
		d.GPU = fmt.Sprintf("%d x %s", p.Hardware.Count, p.Hardware.GPU)
	}
	return d
}

// EncodePrompts writes measured requests for another client: a ShareGPT
// list (each prompt with an empty reply: vllm bench then needs
// --sharegpt-output-len, as Forge's own fixed output length) or JSONL.
func EncodePrompts(reqs []bench.Prompt, format string) ([]byte, error) {
	type turn struct {
		From  string `json:"from"`
		Value string `json:"value"`
	}
	type conv struct {
		ID            string `json:"id"`
		Conversations []turn `json:"conversations"`
	}
	switch format {
	case "sharegpt":
		for _, r := range reqs {
			if r.MaxTokens != reqs[0].MaxTokens {
				return nil, fmt.Errorf("prompts: output lengths differ between requests (%d, %d), which vllm bench's sharegpt loader cannot be told; use --format jsonl", reqs[0].MaxTokens, r.MaxTokens)
			}
		}
		out := make([]conv, len(reqs))
		for i, r := range reqs {
			out[i] = conv{ID: fmt.Sprintf("forge-%d", i), Conversations: []turn{{"human", r.Text}, {"gpt", ""}}}
		}
		b, err := json.MarshalIndent(out, "", " ")
		return append(b, '\n'), err
	case "jsonl":
		var b []byte
		for _, r := range reqs {
			line, err := json.Marshal(struct {
				Prompt       string `json:"prompt"`
				MaxTokens    int    `json:"max_tokens"`
				PromptTokens int    `json:"prompt_tokens"`
			}{r.Text, r.MaxTokens, r.PromptTokens})
			if err != nil {
				return nil, err
			}
			b = append(append(b, line...), '\n')
		}
		return b, nil
	}
	return nil, fmt.Errorf("--format must be sharegpt or jsonl, got %q", format)
}

// WritePrompts writes the plan's measured requests to path in format
// (EncodePrompts), for another client, and says how many.
func WritePrompts(ctx context.Context, p *plan.Plan, path, format string) (int, error) {
	seq, err := PlanSequence(ctx, p)
	if err != nil {
		return 0, err
	}
	data, err := EncodePrompts(seq.Measured, format)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	return len(seq.Measured), bench.WriteFileAtomic(path, data)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
