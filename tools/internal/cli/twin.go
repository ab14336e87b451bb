package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/twin"
	"github.com/forge-bench/forge/tools/internal/workload"
)

// planFor returns the plan of an experiment: from a plan file when given,
// else built from the experiments directory.
func planFor(env Env, planPath, dir, name string, vars map[string]string) (*plan.Plan, error) {
	if planPath != "" {
		return readPlan(planPath)
	}
	if name == "" {
		return nil, usageErr("name an experiment (or give --plan)")
	}
	p, err := loadPlan(env, dir, name, vars)
	if err != nil {
		return nil, err
	}
	// Round-trip through the canonical encoding so the hash is set.
	if _, err := plan.Encode(p); err != nil {
		return nil, err
	}
	return p, nil
}

// twinServer builds the twin for a plan, listening on addr.
func twinServer(p *plan.Plan, addr string, scale float64, faults twin.Faults, seed int64) (*http.Server, *twin.Runner, net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, nil, usageErr("--listen %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, nil, nil, usageErr("--listen %q: the twin listens on loopback only (127.0.0.1)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, nil, problems("twin: %v (is another server on that port?)", err)
	}
	run := twin.NewRunner(twin.ConfigFromPlan(p, twin.DefaultEfficiency), scale)
	srv := twin.NewServer(run, twin.ServerConfig{Model: p.Model.ServedName, Root: p.Model.Repo, VLLMVersion: or(p.Engine.Version, "0.11.0"),
		ForgeVersion: provenance.Version, Seed: seed, Faults: faults})
	return &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}, run, l, nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// serveTwin runs the twin until ctx ends, then shuts it down.
func serveTwin(ctx context.Context, hs *http.Server, run *twin.Runner, l net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go run.Run(ctx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case <-ctx.Done():
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = hs.Shutdown(sctx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

func runTwin(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "twin", "--experiment NAME | --plan PLAN.json [--listen 127.0.0.1:PORT] [--time-scale X] [--fault SPEC]")
	name := fs.String("experiment", "", "experiment to serve")
	planPath := fs.String("plan", "", "plan JSON (instead of --experiment)")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	listen := fs.String("listen", "", "address (default 127.0.0.1:<engine port>)")
	scale := fs.Float64("time-scale", 1, "modelled seconds per wall second (>1 runs faster; shown in /version)")
	faultSpec := fs.String("fault", "", "inject faults, e.g. error=0.1,cut=0.05,stall=0.1:2s,slow_first=0.2:500ms,malformed=0.01")
	seed := fs.Int64("seed", 0, "seed of the generated text and of fault selection")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	faults, err := twin.ParseFaults(*faultSpec)
	if err != nil {
		return usageErr("--fault: %v", err)
	}
	if *scale <= 0 {
		return usageErr("--time-scale must be positive")
	}
	p, err := planFor(env, *planPath, *dir, *name, nil)
	if err != nil {
		return err
	}
	if *listen == "" {
		*listen = fmt.Sprintf("127.0.0.1:%d", p.Engine.Port)
	}
	hs, run, l, err := twinServer(p, *listen, *scale, faults, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "twin: serving %s (%s on %s, time scale %g) on http://%s\n", p.Model.ServedName, p.Experiment, p.Hardware.GPU, *scale, l.Addr())
	return serveTwin(ctx, hs, run, l)
}

// prompts generates a plan's request sequence (warmup excluded).
func planPrompts(ctx context.Context, p *plan.Plan) ([]bench.Prompt, *workload.Set, error) {
	var cfg bench.Config
	spec, err := fromPlan(ctx, p, &cfg)
	if err != nil {
		return nil, nil, err
	}
	ws, err := workload.Generate(spec)
	if err != nil {
		return nil, nil, problems("workload: %v", err)
	}
	out := make([]bench.Prompt, len(ws.Requests))
	for i, r := range ws.Requests {
		out[i] = bench.Prompt{Index: i, Text: r.Prompt, PromptTokens: r.PromptTokens, MaxTokens: r.MaxTokens}
	}
	return out, ws, nil
}

func runPredict(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "predict", "NAME [--out DIR] [--experiments DIR]")
	planPath := fs.String("plan", "", "plan JSON (instead of NAME)")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	out := fs.String("out", "", "write <level>.jsonl and <level>.summary.json here (default: print a table only)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	} else if len(pos) > 1 || *planPath == "" {
		return usageErr("predict wants one experiment name (or --plan)")
	}
	p, err := planFor(env, *planPath, *dir, name, nil)
	if err != nil {
		return err
	}
	lrs, sums, err := predictLevels(ctx, p, "predict")
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%-18s %10s %12s %12s %12s %12s\n", "level", "req/s", "output tok/s", "TTFT p50 ms", "TPOT p50 ms", "E2EL p50 ms")
	for _, s := range sums {
		fmt.Fprintf(env.Stdout, "%-18s %10.2f %12.1f %12s %12s %12s\n", bench.LevelName(s.Level), s.RequestThroughput, s.OutputThroughput, bench.FormatMs(s.TTFT.P50), bench.FormatMs(s.TPOT.P50), bench.FormatMs(s.E2EL.P50))
	}
	if *out != "" {
		if err := writeLevels(*out, lrs, sums); err != nil {
			return problems("%v", err)
		}
	}
	return nil
}

// predictLevels runs the twin in virtual time over the plan's sweep: the
// records forge bench would have written and their summaries.
func predictLevels(ctx context.Context, p *plan.Plan, runID string) ([]bench.LevelRun, []bench.Summary, error) {
	prompts, ws, err := planPrompts(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	cfg := twin.ConfigFromPlan(p, twin.DefaultEfficiency)
	prov := bench.Provenance{ForgeVersion: provenance.Version, ForgeCommit: provenance.Commit, Engine: bench.Engine{Name: "twin", Version: or(p.Engine.Version, "0.11.0")},
		GPU: p.Hardware.GPU, GPUSource: "declared", ModelRepo: p.Model.Repo, ModelRevision: &p.Model.Revision, ServedModel: p.Model.ServedName,
		PriceObserved: &p.Hardware.Price.Observed, PlanHash: &p.Hash, RequestSequenceSHA256: &ws.SHA256}
	if ws.DatasetSHA256 != "" {
		prov.DatasetSHA256 = &ws.DatasetSHA256
	}
	slo := sloFromPlan(p)
	maxConc := 0
	if p.Sweep.MaxConcurrency != nil {
		maxConc = *p.Sweep.MaxConcurrency
	}
	var lrs []bench.LevelRun
	var sums []bench.Summary
	for _, l := range p.Sweep.Levels {
		lvl := bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index}
		lr := twin.PredictLevel(cfg, lvl, prompts, p.Sweep.Burstiness, maxConc, uint64(p.Workload.Seed)+uint64(l.Index))
		for i := range lr.Records {
			lr.Records[i].RunID = runID
		}
		s := lr.Summarize(runID, p.Experiment, slo, prov)
		s.Predicted, s.Source, s.API, s.TokenSource = true, "predict", p.Workload.API, ws.TokenSource
		lrs, sums = append(lrs, lr), append(sums, s)
	}
	return lrs, sums, nil
}

// writeLevels writes each level's records (<level>.jsonl) and summary
// (<level>.summary.json) into dir, creating it.
func writeLevels(dir string, lrs []bench.LevelRun, sums []bench.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range sums {
		stem := filepath.Join(dir, bench.LevelName(s.Level))
		var lines []byte
		for _, r := range lrs[i].Records {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			lines = append(append(lines, b...), '\n')
		}
		if err := os.WriteFile(stem+".jsonl", lines, 0o644); err != nil {
			return err
		}
		data, err := bench.EncodeSummary(s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(stem+".summary.json", data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
