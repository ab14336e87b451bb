package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/results"
	"github.com/forge-bench/forge/tools/internal/scrape"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// Where a run keeps its cross-check against vLLM's own benchmark client.
const (
	parityDir   = "parity"
	parityTable = "parity.md"
)

// parityRun cross-checks Forge against vLLM's own benchmark client:
// `vllm bench serve` from the serving venv, against the same running server,
// with Forge's exact measured prompts (forge prompts) and output length. It
// runs right after Forge's own sweep of the same level, so that both clients
// see the machine in the same state: on a shared machine the speed drifts by
// 10-20% over minutes, which two whole sweeps one after the other would read
// as a difference between the clients. Raw vLLM files go to parity/raw/,
// imported summaries (Forge's schema) to parity/vllm-bench/, the table to
// parity/parity.md.
type parityRun struct {
	p                      *plan.Plan
	runDir, raw, imported  string
	prompts, vllm, logPath string
	model, tokenizer       string
	n                      int
	log                    *os.File
}

func newParity(ctx context.Context, p *plan.Plan, runDir string) (*parityRun, error) {
	if p.Engine.Kind != "vllm" {
		return nil, problems("--parity needs a vLLM engine (vllm bench serve), not %q", p.Engine.Kind)
	}
	if p.Workload.OutputTokens == nil {
		return nil, problems("--parity needs a fixed output length (workload output_tokens), which vllm bench's sharegpt loader can be given")
	}
	pr := &parityRun{p: p, runDir: runDir, raw: filepath.Join(runDir, parityDir, results.RawDir),
		imported: filepath.Join(runDir, parityDir, "vllm-bench"), vllm: p.Steps[0].Argv[0],
		model: p.Model.Repo, tokenizer: p.Model.Repo}
	if p.Model.Path != "" {
		pr.model, pr.tokenizer = p.Model.Path, p.Model.Path
	}
	for _, d := range []string{pr.raw, pr.imported} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, problems("%v", err)
		}
	}
	reqs, err := measuredRequests(ctx, p)
	if err != nil {
		return nil, err
	}
	data, err := encodePrompts(reqs, "sharegpt")
	if err != nil {
		return nil, err
	}
	pr.n, pr.prompts = len(reqs), filepath.Join(pr.raw, "prompts.sharegpt.json")
	if err := os.WriteFile(pr.prompts, data, 0o644); err != nil {
		return nil, problems("%v", err)
	}
	pr.logPath = filepath.Join(pr.raw, "vllm-bench.log")
	if pr.log, err = os.Create(pr.logPath); err != nil {
		return nil, problems("%v", err)
	}
	return pr, nil
}

// level runs vllm bench serve for one closed-loop level and imports its
// result; prov is the provenance of Forge's own summary of that level (the
// same server, model and data).
func (pr *parityRun) level(ctx context.Context, env Env, l bench.Level, runID string, prov bench.Provenance) error {
	p := pr.p
	name := bench.LevelName(l)
	if l.Kind != "concurrency" {
		fmt.Fprintf(env.Stderr, "parity %s: skipped, only closed-loop levels are cross-checked\n", name)
		return nil
	}
	args := []string{"bench", "serve", "--backend", "vllm",
		"--base-url", fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port),
		"--model", pr.model, "--served-model-name", p.Model.ServedName, "--tokenizer", pr.tokenizer,
		"--dataset-name", "sharegpt", "--dataset-path", pr.prompts,
		"--sharegpt-output-len", strconv.Itoa(*p.Workload.OutputTokens),
		"--num-prompts", strconv.Itoa(pr.n),
		"--max-concurrency", strconv.Itoa(int(l.Value)), "--request-rate", "inf",
		"--seed", strconv.Itoa(p.Workload.Seed),
		"--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99",
		"--save-result", "--save-detailed", "--result-dir", pr.raw, "--result-filename", name + ".json",
		"--disable-tqdm",
		// The server is warm and healthy (Forge's level just ran): no
		// extra test request, so the scraped server metrics below cover
		// exactly the measured requests.
		"--ready-check-timeout-sec", "0"}
	if p.Workload.IgnoreEOS {
		args = append(args, "--ignore-eos")
	}
	fmt.Fprintf(pr.log, "$ %s %s\n", pr.vllm, strings.Join(args, " "))
	cctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, pr.vllm, args...)
	cmd.Stdout, cmd.Stderr = pr.log, pr.log
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	fmt.Fprintf(env.Stderr, "parity %s: vllm bench serve, %d prompts (log %s)\n", name, pr.n, pr.logPath)
	// The server's own metrics around the client's run, as Forge scrapes
	// them around its levels: they tell the server's speed from the client's.
	hc := &http.Client{Timeout: 10 * time.Second}
	metricsURL := fmt.Sprintf("http://%s:%d/metrics", p.Engine.Host, p.Engine.Port)
	before, beforeErr := scrape.Fetch(ctx, hc, metricsURL)
	if err := cmd.Run(); err != nil {
		return problems("parity %s: vllm bench serve failed: %v (see %s)", name, err, pr.logPath)
	}
	after, afterErr := scrape.Fetch(ctx, hc, metricsURL)
	resPath := filepath.Join(pr.raw, name+".json")
	b, err := os.ReadFile(resPath)
	if err != nil {
		return problems("parity %s: %v (see %s)", name, err, pr.logPath)
	}
	res, err := vllmbench.Parse(resPath, b)
	if err != nil {
		return problems("%v", err)
	}
	sum, err := vllmbench.ToSummary(res, vllmbench.Options{RunID: runID, Experiment: p.Experiment, Provenance: prov, Index: l.Index})
	if err != nil {
		return problems("%v", err)
	}
	if beforeErr == nil && afterErr == nil {
		view := scrape.Diff(before, after, nil)
		sum.Server = &view
	} else {
		fmt.Fprintf(env.Stderr, "parity %s: no server metrics around vllm bench (%v %v)\n", name, beforeErr, afterErr)
	}
	out, err := bench.EncodeSummary(sum)
	if err != nil {
		return problems("%v", err)
	}
	if err := os.WriteFile(filepath.Join(pr.imported, name+".summary.json"), out, 0o644); err != nil {
		return problems("%v", err)
	}
	return nil
}

// finish writes the parity table and returns the rows outside tolerance.
func (pr *parityRun) finish(env Env) (counts, timings []vllmbench.Row, err error) {
	pr.log.Close()
	return writeParity(env, filepath.Join(pr.runDir, "bench"), pr.imported, filepath.Join(pr.runDir, parityDir, parityTable))
}

// sweepWithParity runs Forge's sweep one level at a time, each followed by
// vLLM's client on the same level. What was measured is kept whatever fails.
func sweepWithParity(ctx context.Context, env Env, cfg bench.Config, p *plan.Plan, runDir, runID string) (sums []bench.Summary, benchErr error, counts, timings []vllmbench.Row, parityErr error) {
	pr, err := newParity(ctx, p, runDir)
	if err != nil {
		s, benchErr := bench.Run(ctx, cfg)
		return s, benchErr, nil, nil, err
	}
	for _, lvl := range cfg.Levels {
		one := cfg
		one.Levels = []bench.Level{lvl}
		s, err := bench.Run(ctx, one)
		sums = append(sums, s...)
		if err != nil || ctx.Err() != nil || len(s) == 0 {
			pr.log.Close()
			return sums, err, nil, nil, nil
		}
		if err := pr.level(ctx, env, lvl, runID, s[0].Provenance); err != nil {
			// Forge's own sweep goes on; the cross-check stops here.
			pr.log.Close()
			rest := cfg
			rest.Levels = nil
			for _, l := range cfg.Levels {
				if l.Index > lvl.Index {
					rest.Levels = append(rest.Levels, l)
				}
			}
			more, berr := bench.Run(ctx, rest)
			return append(sums, more...), berr, nil, nil, err
		}
	}
	counts, timings, err = pr.finish(env)
	return sums, nil, counts, timings, err
}

// parityVerdict reports the rows outside tolerance: timing rows are
// printed (with whether the clients' overheads above the server agree),
// count rows fail the run, since the clients did not send the same work.
func parityVerdict(env Env, runDir string, counts, timings []vllmbench.Row) error {
	table := filepath.Join(runDir, parityDir, parityTable)
	if len(timings) > 0 {
		overhead := 0
		for _, r := range timings {
			if r.Unit == "ms" {
				overhead++
			}
		}
		if overhead == 0 {
			fmt.Fprintf(env.Stderr, "parity: %d timing comparison(s) outside tolerance, but each client's overhead over the server's own metrics agrees (rows \"− server\"): the server ran at different speeds during the two clients' runs; read %s\n", len(timings), table)
		} else {
			fmt.Fprintf(env.Stderr, "parity: %d timing comparison(s) outside tolerance, %d of them client overheads over the server's own metrics: read %s\n", len(timings), overhead, table)
		}
	}
	if len(counts) > 0 {
		return problems("parity: Forge and vLLM's client disagree on %d count(s) (%s %s: Forge %g, vLLM %g): they did not send the same work; see %s",
			len(counts), counts[0].Level, counts[0].Metric, counts[0].Forge, counts[0].VLLM, table)
	}
	return nil
}

// declared is what the plan says about the target, for provenance.
func declared(p *plan.Plan) bench.Declared {
	d := bench.Declared{EngineName: p.Engine.Kind, EngineVersion: p.Engine.Version, GPU: p.Hardware.GPU,
		ModelRepo: p.Model.Repo, ModelRevision: p.Model.Revision, PriceObserved: p.Hardware.Price.Observed, PlanHash: p.Hash}
	if p.Hardware.Device == "cpu" && p.Engine.Kind == "vllm" {
		d.EngineName = "vllm-cpu"
	}
	if p.Hardware.Count > 1 {
		d.GPU = fmt.Sprintf("%d x %s", p.Hardware.Count, p.Hardware.GPU)
	}
	return d
}
