package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/workload"
)

const benchSynopsis = `(--plan PLAN.json | --base-url URL --model NAME) --out DIR [flags]

Runs a load sweep against an OpenAI-compatible server and writes, per level,
<level>.jsonl (one record per request, streamed) and <level>.summary.json.
With --plan, everything comes from the plan; flags given explicitly override it.`

// benchFlags are the command-line settings; in plan mode they start from the plan.
type benchFlags struct {
	planPath, baseURL, model, api, workload, dataset, tokenizer, out, runID, experiment, apiKeyEnv string
	concurrency, rate, slo                                                                         string
	inputTokens, outputTokens, numPrompts, warmup, maxConcurrency                                  int
	seed                                                                                           int64
	burstiness                                                                                     float64
	ignoreEOS, noScrape                                                                            bool
	timeout, maxDuration, scrapeInterval                                                           time.Duration
}

func runBench(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "bench", benchSynopsis)
	var f benchFlags
	fs.StringVar(&f.planPath, "plan", "", "plan JSON written by forge plan")
	fs.StringVar(&f.baseURL, "base-url", "", "server URL, e.g. http://127.0.0.1:8000")
	fs.StringVar(&f.model, "model", "", "model name to send")
	fs.StringVar(&f.api, "api", "completions", "completions or chat")
	fs.StringVar(&f.workload, "workload", "random", "random, sharegpt or jsonl")
	fs.StringVar(&f.dataset, "dataset", "", "dataset file for sharegpt or jsonl")
	fs.StringVar(&f.tokenizer, "tokenizer", "", "the model's tokenizer.json (else lengths are estimated)")
	fs.IntVar(&f.inputTokens, "input-tokens", 256, "random: prompt tokens")
	fs.IntVar(&f.outputTokens, "output-tokens", 128, "random: output tokens; sharegpt without replies: output tokens")
	fs.StringVar(&f.concurrency, "concurrency", "", "closed-loop levels, e.g. 1,4,16")
	fs.StringVar(&f.rate, "rate", "", "open-loop levels in requests/s, e.g. 2,8")
	fs.Float64Var(&f.burstiness, "burstiness", 1, "gamma shape of open-loop arrivals (1 = Poisson)")
	fs.IntVar(&f.maxConcurrency, "max-concurrency", 0, "open loop: cap on requests in flight (0 = none)")
	fs.IntVar(&f.numPrompts, "num-prompts", 100, "requests per level")
	fs.IntVar(&f.warmup, "warmup", 0, "unrecorded requests before each level")
	fs.Int64Var(&f.seed, "seed", 0, "seed of the request sequence and the arrivals")
	fs.StringVar(&f.slo, "slo", "", "per-request SLOs, e.g. ttft_p99_ms=2000,tpot_p99_ms=100")
	fs.StringVar(&f.apiKeyEnv, "api-key-env", "", "environment variable holding the API key (never written anywhere)")
	fs.StringVar(&f.out, "out", "", "output directory")
	fs.StringVar(&f.runID, "run-id", "", "run id (default: the UTC start time)")
	fs.StringVar(&f.experiment, "experiment", "adhoc", "experiment name recorded in summaries")
	fs.BoolVar(&f.ignoreEOS, "ignore-eos", false, "vLLM: generate exactly max_tokens (ignore_eos, min_tokens)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "per-request timeout")
	fs.DurationVar(&f.maxDuration, "max-duration", 0, "stop sending new requests of a level after this long (0 = none)")
	fs.DurationVar(&f.scrapeInterval, "scrape-interval", 2*time.Second, "sample the server's /metrics gauges this often during a level (0 = before/after only)")
	fs.BoolVar(&f.noScrape, "no-scrape", false, "do not read the server's /metrics")
	var mf metricsFlags
	mf.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	cfg, err := benchConfig(ctx, f, set)
	if err != nil {
		return err
	}
	cfg.Progress = env.Stderr
	lm, err := mf.start(ctx, env, "bench")
	if err != nil {
		return err
	}
	cfg.Exporter = lm.Exporter()
	sums, err := bench.Run(ctx, cfg)
	// A Ctrl-C while the metrics linger does not make the sweep interrupted.
	interrupted := ctx.Err() != nil
	defer lm.finish(ctx)
	if err != nil {
		return problems("bench: %v (results written so far are in %s)", err, cfg.Out)
	}
	completed := 0
	for _, s := range sums {
		completed += s.Completed
	}
	fmt.Fprintf(env.Stdout, "%d level(s), %d completed request(s); results in %s\n", len(sums), completed, cfg.Out)
	if interrupted {
		return problems("interrupted: completed levels and records are kept in %s, the last summary is marked incomplete", cfg.Out)
	}
	if completed == 0 && len(sums) > 0 {
		return problems("every request failed; see failures_by_reason in %s", cfg.Out)
	}
	return nil
}

// metricsFlags are --metrics-addr and --metrics-linger, shared by forge
// bench and forge run: Forge's own load-generator metrics for Prometheus.
type metricsFlags struct {
	addr   string
	linger time.Duration
}

func (m *metricsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.addr, "metrics-addr", "", "serve Forge's own metrics (Prometheus text) at http://ADDR/metrics during the run, e.g. 127.0.0.1:9464")
	fs.DurationVar(&m.linger, "metrics-linger", 0, "with --metrics-addr: keep serving this long after the last level, so Prometheus takes a final scrape")
}

// liveMetrics is a running --metrics-addr endpoint; nil when the flag is
// not given, and then every method is a no-op.
type liveMetrics struct {
	exporter *bench.Exporter
	stop     func()
	linger   time.Duration
}

// start serves a new exporter at --metrics-addr and announces it on stderr
// in one line. An address that cannot be listened on is a usage error. The
// endpoint outlives the first Ctrl-C (ctx), so that the last level's
// graceful end is still counted; finish or close ends it.
func (m metricsFlags) start(ctx context.Context, env Env, cmd string) (*liveMetrics, error) {
	if m.linger < 0 {
		return nil, usageErr("--metrics-linger must not be negative, got %s", m.linger)
	}
	if m.addr == "" {
		if m.linger > 0 {
			return nil, usageErr("--metrics-linger needs --metrics-addr")
		}
		return nil, nil
	}
	e := bench.NewExporter()
	bound, stop, err := bench.ServeMetrics(context.WithoutCancel(ctx), m.addr, e)
	if err != nil {
		return nil, usageErr("--metrics-addr %s: cannot listen there: %v", m.addr, err)
	}
	linger := ""
	if m.linger > 0 {
		linger = fmt.Sprintf(", kept %s after the last level", m.linger)
	}
	fmt.Fprintf(env.Stderr, "%s: Forge's own metrics at http://%s/metrics (Prometheus text%s)\n", cmd, bound, linger)
	return &liveMetrics{exporter: e, stop: stop, linger: m.linger}, nil
}

// Exporter is what bench.Config.Exporter should hold (nil: no live metrics).
func (lm *liveMetrics) Exporter() *bench.Exporter {
	if lm == nil {
		return nil
	}
	return lm.exporter
}

// finish keeps serving for --metrics-linger, so that Prometheus takes a
// final scrape, then closes the endpoint. ctx ending (Ctrl-C) cuts the
// wait short.
func (lm *liveMetrics) finish(ctx context.Context) {
	if lm == nil {
		return
	}
	if lm.linger > 0 && ctx.Err() == nil {
		t := time.NewTimer(lm.linger)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	lm.stop()
}

// close ends the endpoint at once; after finish it does nothing.
func (lm *liveMetrics) close() {
	if lm != nil {
		lm.stop()
	}
}

// benchConfig turns flags (and the plan, when given) into a bench.Config.
func benchConfig(ctx context.Context, f benchFlags, set map[string]bool) (bench.Config, error) {
	var cfg bench.Config
	if f.out == "" {
		return cfg, usageErr("bench needs --out DIR")
	}
	var wl workload.Spec
	if f.planPath != "" {
		p, err := readPlan(f.planPath)
		if err != nil {
			return cfg, err
		}
		if wl, err = fromPlan(ctx, p, &cfg); err != nil {
			return cfg, err
		}
	} else {
		if f.baseURL == "" || f.model == "" {
			return cfg, usageErr("bench needs --plan, or --base-url and --model")
		}
		cfg.Experiment = f.experiment
		cfg.Client.API = f.api
		cfg.Declared.ModelRepo = f.model
		wl = workload.Spec{Kind: f.workload, Dataset: f.dataset, InputTokens: f.inputTokens, OutputTokens: f.outputTokens}
		cfg.Burstiness = f.burstiness
		cfg.MaxConcurrency = f.maxConcurrency
		cfg.MaxDuration = f.maxDuration
		cfg.Client.IgnoreEOS = f.ignoreEOS
		wl.NumPrompts, wl.Seed = f.numPrompts, f.seed
		cfg.Warmup = nil
	}
	// Explicit flags override the plan.
	override := func(name string, apply func()) {
		if set[name] || f.planPath == "" {
			apply()
		}
	}
	override("base-url", func() { cfg.Client.BaseURL = f.baseURL })
	override("model", func() { cfg.Client.Model = f.model })
	override("api", func() { cfg.Client.API = f.api })
	override("ignore-eos", func() { cfg.Client.IgnoreEOS = f.ignoreEOS })
	override("max-duration", func() { cfg.MaxDuration = f.maxDuration })
	override("burstiness", func() { cfg.Burstiness = f.burstiness })
	override("max-concurrency", func() { cfg.MaxConcurrency = f.maxConcurrency })
	override("num-prompts", func() { wl.NumPrompts = f.numPrompts })
	override("seed", func() { wl.Seed = f.seed })
	if f.tokenizer != "" {
		wl.Tokenizer = f.tokenizer
	}
	if cfg.Client.API != "completions" && cfg.Client.API != "chat" {
		return cfg, usageErr("--api must be completions or chat, got %q", cfg.Client.API)
	}
	if set["concurrency"] || set["rate"] || f.planPath == "" {
		levels, err := parseLevels(f.concurrency, f.rate)
		if err != nil {
			return cfg, err
		}
		cfg.Levels = levels
	}
	if set["slo"] || f.planPath == "" {
		slo, err := parseSLO(f.slo)
		if err != nil {
			return cfg, err
		}
		cfg.SLO = slo
	}
	warmup := f.warmup
	if f.planPath != "" && !set["warmup"] {
		warmup = len(cfg.Warmup)
	}
	if wl.NumPrompts < 1 || warmup < 0 {
		return cfg, usageErr("--num-prompts must be at least 1 and --warmup not negative")
	}
	// One sequence: the warmup prompts first, then the measured ones, so the
	// measured requests are the same whatever the warmup.
	wl.NumPrompts += warmup
	ws, err := workload.Generate(wl)
	if err != nil {
		return cfg, problems("workload: %v", err)
	}
	prompts := make([]bench.Prompt, len(ws.Requests))
	for i, r := range ws.Requests {
		prompts[i] = bench.Prompt{Index: r.Index, Text: r.Prompt, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens}
	}
	cfg.Warmup, cfg.Prompts = prompts[:warmup], prompts[warmup:]
	for i := range cfg.Prompts {
		cfg.Prompts[i].Index = i
	}
	cfg.TokenSource, cfg.SequenceSHA256, cfg.DatasetSHA256 = ws.TokenSource, ws.SHA256, ws.DatasetSHA256
	counter, err := workload.NewCounter(wl.Tokenizer)
	if err != nil {
		return cfg, problems("tokenizer: %v", err)
	}
	cfg.Counter = bench.Counter{Count: counter.Count, Source: counter.Source}
	cfg.Seed = uint64(wl.Seed)
	if f.apiKeyEnv != "" {
		key, ok := os.LookupEnv(f.apiKeyEnv)
		if !ok {
			return cfg, usageErr("--api-key-env %s: the variable is not set", f.apiKeyEnv)
		}
		cfg.Client.APIKey = key
	}
	cfg.Client.Timeout = f.timeout
	cfg.ScrapeInterval, cfg.NoScrape = f.scrapeInterval, f.noScrape
	cfg.Out = f.out
	cfg.RunID = f.runID
	if cfg.RunID == "" {
		cfg.RunID = time.Now().UTC().Format("20060102T150405Z")
	}
	return cfg, nil
}

func readPlan(path string) (*plan.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("read plan: %v", err)
	}
	if err := plan.Validate(b); err != nil {
		return nil, problems("%s: %v", path, err)
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, problems("%s: %v", path, err)
	}
	return &p, nil
}

// fromPlan fills the target, levels, SLOs and provenance from a plan and
// returns its workload, with the dataset resolved by sha256.
func fromPlan(ctx context.Context, p *plan.Plan, cfg *bench.Config) (workload.Spec, error) {
	cfg.Experiment = p.Experiment
	cfg.Client.BaseURL = fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	cfg.Client.Model = p.Model.ServedName
	cfg.Client.API = p.Workload.API
	cfg.Client.IgnoreEOS = p.Workload.IgnoreEOS
	cfg.Burstiness = p.Sweep.Burstiness
	if p.Sweep.MaxConcurrency != nil {
		cfg.MaxConcurrency = *p.Sweep.MaxConcurrency
	}
	if p.Sweep.MaxDurationS != nil {
		cfg.MaxDuration = time.Duration(*p.Sweep.MaxDurationS * float64(time.Second))
	}
	for _, l := range p.Sweep.Levels {
		cfg.Levels = append(cfg.Levels, bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index})
	}
	cfg.SLO = sloFromPlan(p)
	cfg.Warmup = make([]bench.Prompt, p.Sweep.Warmup) // only its length is used
	cfg.Declared = declared(p)
	spec := workload.Spec{Kind: p.Workload.Kind, NumPrompts: p.Sweep.PromptsPerLevel, Seed: int64(p.Workload.Seed)}
	if p.Workload.InputTokens != nil {
		spec.InputTokens = *p.Workload.InputTokens
	}
	if p.Workload.OutputTokens != nil {
		spec.OutputTokens = *p.Workload.OutputTokens
	}
	if p.Model.Path != "" {
		// A converted checkpoint carries its tokenizer: count lengths with
		// it, as vLLM does, instead of estimating.
		if tj := filepath.Join(p.Model.Path, "tokenizer.json"); fileExists(tj) {
			spec.Tokenizer = tj
		}
	}
	if d := p.Workload.Dataset; d != nil {
		path, err := data.Resolve(ctx, data.File{SHA256: d.SHA256, Path: d.Path, URL: d.URL, SizeBytes: d.SizeBytes}, data.Options{})
		if err != nil {
			return spec, problems("%v", err)
		}
		spec.Dataset = path
	}
	return spec, nil
}

func parseLevels(conc, rate string) ([]bench.Level, error) {
	var out []bench.Level
	for _, part := range []struct{ kind, list string }{{"concurrency", conc}, {"rate", rate}} {
		if part.list == "" {
			continue
		}
		prev := 0.0
		for _, s := range strings.Split(part.list, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || v <= 0 || (part.kind == "concurrency" && v != float64(int(v))) {
				return nil, usageErr("--%s: %q is not a positive %s", part.kind, s, map[string]string{"concurrency": "integer", "rate": "number"}[part.kind])
			}
			if v <= prev {
				return nil, usageErr("--%s must be ascending without repeats, got %s", part.kind, part.list)
			}
			prev = v
			out = append(out, bench.Level{Kind: part.kind, Value: v, Index: len(out)})
		}
	}
	if len(out) == 0 {
		return nil, usageErr("give --concurrency and/or --rate levels")
	}
	return out, nil
}

// parseSLO reads ttft_p99_ms=2000,tpot_p99_ms=100 (the experiment's names)
// or ttft_ms=2000 into per-request thresholds keyed ttft_ms, tpot_ms, …
func parseSLO(s string) (bench.SLO, error) {
	out := bench.SLO{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		x, err := strconv.ParseFloat(v, 64)
		key := strings.Replace(k, "_p99_ms", "_ms", 1)
		if !ok || err != nil || x <= 0 || !map[string]bool{"ttft_ms": true, "tpot_ms": true, "itl_ms": true, "e2el_ms": true}[key] {
			return nil, usageErr("--slo: %q: want name=milliseconds with name one of ttft_p99_ms, tpot_p99_ms, itl_p99_ms, e2el_p99_ms", kv)
		}
		out[key] = x
	}
	return out, nil
}

// sloFromPlan turns the plan's *_p99_ms objectives into per-request thresholds.
func sloFromPlan(p *plan.Plan) bench.SLO {
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
