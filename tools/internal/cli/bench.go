package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
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
	search                                                                                         searchFlags
	limits                                                                                         bench.Limits
	timeout, maxDuration, scrapeInterval                                                           time.Duration
}

func runBench(ctx context.Context, env Env, args []string) error {
	cfg, mf, err := benchArgs(ctx, env, args)
	if err != nil {
		return err
	}
	cfg.Progress = env.Stderr
	// A second sweep into the same directory would replace some levels and
	// keep others, and the mix would read as one run.
	if old, _ := filepath.Glob(filepath.Join(cfg.Out, "*"+bench.RecordsExt)); len(old) > 0 {
		return usageErr("--out %s already holds level records (%s): give a new directory", cfg.Out, filepath.Base(old[0]))
	}
	lm, err := mf.start(ctx, env, "bench")
	if err != nil {
		return err
	}
	cfg.Exporter = lm.Exporter()
	sums, err := bench.Run(ctx, cfg)
	// A Ctrl-C while the metrics linger does not make the sweep interrupted.
	interrupted := ctx.Err() != nil
	defer lm.Finish(ctx)
	if err != nil {
		return problems("bench: %v (results written so far are in %s)", err, cfg.Out)
	}
	completed, verdict := bench.Outcome(sums)
	fmt.Fprintf(env.Stdout, "%d level(s), %d completed request(s); results in %s\n", len(sums), completed, cfg.Out)
	if interrupted {
		return problems("interrupted: completed levels and records are kept in %s, the last summary is marked incomplete", cfg.Out)
	}
	if verdict != "" {
		return problems("%s; results in %s", verdict, cfg.Out)
	}
	return nil
}

// benchArgs is forge bench's command line as a configuration, checked
// (FuzzBenchArgs runs it on arbitrary arguments).
func benchArgs(ctx context.Context, env Env, args []string) (bench.Config, metricsFlags, error) {
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
	f.search.register(fs)
	f.limits.RegisterLimitFlags(fs)
	var mf metricsFlags
	mf.register(fs)
	if _, err := parse(fs, args); err != nil {
		return bench.Config{}, mf, err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	cfg, err := benchConfig(ctx, f, set)
	return cfg, mf, err
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

// start serves Forge's metrics at --metrics-addr (nil when not given).
func (m metricsFlags) start(ctx context.Context, env Env, cmd string) (*pipeline.LiveMetrics, error) {
	lm, err := pipeline.StartLiveMetrics(ctx, env.Stderr, cmd, m.addr, m.linger)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return lm, nil
}

// searchFlags are --find-max and its settings, shared by forge bench and
// forge predict.
type searchFlags struct {
	on     bool
	step   float64
	probes int
}

func (f *searchFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "find-max", false, "find the highest load meeting the SLO: grow from the first --concurrency/--rate value to the last, then bisect; every probe is a level")
	fs.Float64Var(&f.step, "search-step", 0, "--find-max resolution (default 1 for concurrency, a quarter of the start for rate)")
	fs.IntVar(&f.probes, "search-probes", 16, "--find-max: at most this many probes")
}

// over is the search the flags ask for between the first and last level,
// nil without --find-max.
func (f searchFlags) over(levels []bench.Level, slo bench.SLO) (*bench.Search, error) {
	if !f.on {
		return nil, nil
	}
	s, err := bench.SearchOver(levels, f.step, f.probes, slo)
	if err != nil {
		return nil, usageErr("--find-max: %v", err)
	}
	return &s, nil
}

// benchConfig turns flags (and the plan, when given) into a bench.Config.
func benchConfig(ctx context.Context, f benchFlags, set map[string]bool) (bench.Config, error) {
	var cfg bench.Config
	if f.out == "" {
		return cfg, usageErr("bench needs --out DIR")
	}
	var wl workload.Spec
	warmup := f.warmup
	if f.planPath != "" {
		p, err := readPlan(f.planPath)
		if err != nil {
			return cfg, err
		}
		cfg = pipeline.BaseConfig(p)
		if wl, err = pipeline.WorkloadSpec(ctx, p); err != nil {
			return cfg, problems("%v", err)
		}
		if !set["warmup"] {
			warmup = p.Sweep.Warmup
		}
	} else {
		if f.baseURL == "" || f.model == "" {
			return cfg, usageErr("bench needs --plan, or --base-url and --model")
		}
		cfg.Experiment = f.experiment
		cfg.Declared.ModelRepo = f.model
		wl = workload.Spec{Kind: f.workload, Dataset: f.dataset, InputTokens: f.inputTokens, OutputTokens: f.outputTokens}
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
		levels, err := bench.ParseLevels(f.concurrency, f.rate)
		if err != nil {
			return cfg, usageErr("%v", err)
		}
		cfg.Levels, cfg.Search = levels, nil // levels given on the command line replace the plan's search too
	}
	if set["slo"] || f.planPath == "" {
		slo, err := bench.ParseSLO(f.slo)
		if err != nil {
			return cfg, usageErr("%v", err)
		}
		cfg.SLO = slo
	}
	search, err := f.search.over(cfg.Levels, cfg.SLO)
	if err != nil {
		return cfg, err
	}
	cfg.Search = search
	if wl.NumPrompts < 1 || warmup < 0 || wl.NumPrompts+warmup > bench.MaxPromptsPerLevel {
		return cfg, usageErr("--num-prompts must be at least 1, --warmup not negative, and both together at most %d (each prompt is held in memory)", bench.MaxPromptsPerLevel)
	}
	seq, err := pipeline.Generate(wl, warmup)
	if err != nil {
		return cfg, problems("%v", err)
	}
	if err := pipeline.UseSequence(&cfg, seq); err != nil {
		return cfg, problems("%v", err)
	}
	if f.apiKeyEnv != "" {
		key, ok := os.LookupEnv(f.apiKeyEnv)
		if !ok {
			return cfg, usageErr("--api-key-env %s: the variable is not set", f.apiKeyEnv)
		}
		cfg.Client.APIKey = key
	}
	cfg.Client.Timeout, cfg.Client.Limits = f.timeout, f.limits
	if err := cfg.Validate(); err != nil {
		return cfg, usageErr("%v", err)
	}
	cfg.ScrapeInterval, cfg.NoScrape = f.scrapeInterval, f.noScrape
	cfg.Out = f.out
	cfg.RunID = f.runID
	if err := rundir.CheckID(cfg.RunID); cfg.RunID != "" && err != nil {
		return cfg, usageErr("--run-id %v", err)
	}
	if cfg.RunID == "" {
		cfg.RunID = rundir.Timestamp(time.Now())
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
