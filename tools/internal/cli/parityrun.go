package cli

import (
	"context"
	"fmt"
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
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// Where a run keeps its cross-check against vLLM's own benchmark client.
const (
	parityDir   = "parity"
	parityTable = "parity.md"
)

// benchParity runs `vllm bench serve` from the serving venv against the
// still-running server, once per concurrency level, with Forge's exact
// measured prompts (forge prompts) and output length, then imports each
// result into Forge's summary schema and writes the parity table. Raw
// vLLM files go to parity/raw/, imported summaries to parity/vllm-bench/.
// It returns the rows outside tolerance (see writeParity). prov is the
// provenance of Forge's own summaries of this run: the same server, model
// and data.
func benchParity(ctx context.Context, env Env, p *plan.Plan, runDir, runID string, prov bench.Provenance) (counts, timings []vllmbench.Row, err error) {
	if p.Engine.Kind != "vllm" {
		return nil, nil, problems("--parity needs a vLLM engine (vllm bench serve), not %q", p.Engine.Kind)
	}
	if p.Workload.OutputTokens == nil {
		return nil, nil, problems("--parity needs a fixed output length (workload output_tokens), which vllm bench's sharegpt loader can be given")
	}
	raw := filepath.Join(runDir, parityDir, results.RawDir)
	imported := filepath.Join(runDir, parityDir, "vllm-bench")
	for _, d := range []string{raw, imported} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, nil, problems("%v", err)
		}
	}
	reqs, err := measuredRequests(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	data, err := encodePrompts(reqs, "sharegpt")
	if err != nil {
		return nil, nil, err
	}
	prompts := filepath.Join(raw, "prompts.sharegpt.json")
	if err := os.WriteFile(prompts, data, 0o644); err != nil {
		return nil, nil, problems("%v", err)
	}
	vllm := p.Steps[0].Argv[0]
	model, tokenizer := p.Model.Repo, p.Model.Repo
	if p.Model.Path != "" {
		model, tokenizer = p.Model.Path, p.Model.Path
	}
	logPath := filepath.Join(raw, "vllm-bench.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, nil, problems("%v", err)
	}
	defer logf.Close()
	for _, l := range p.Sweep.Levels {
		if l.Kind != "concurrency" {
			fmt.Fprintf(env.Stderr, "parity: level %s %g skipped: only closed-loop levels are cross-checked\n", l.Kind, l.Value)
			continue
		}
		name := bench.LevelName(bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index})
		args := []string{"bench", "serve", "--backend", "vllm",
			"--base-url", fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port),
			"--model", model, "--served-model-name", p.Model.ServedName, "--tokenizer", tokenizer,
			"--dataset-name", "sharegpt", "--dataset-path", prompts,
			"--sharegpt-output-len", strconv.Itoa(*p.Workload.OutputTokens),
			"--num-prompts", strconv.Itoa(len(reqs)),
			"--max-concurrency", strconv.Itoa(int(l.Value)), "--request-rate", "inf",
			"--seed", strconv.Itoa(p.Workload.Seed),
			"--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99",
			"--save-result", "--save-detailed", "--result-dir", raw, "--result-filename", name + ".json",
			"--disable-tqdm"}
		if p.Workload.IgnoreEOS {
			args = append(args, "--ignore-eos")
		}
		fmt.Fprintf(logf, "$ %s %s\n", vllm, strings.Join(args, " "))
		cctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		cmd := exec.CommandContext(cctx, vllm, args...)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		fmt.Fprintf(env.Stderr, "parity %s: vllm bench serve, %d prompts (log %s)\n", name, len(reqs), logPath)
		err := cmd.Run()
		cancel()
		if err != nil {
			return nil, nil, problems("parity %s: vllm bench serve failed: %v (see %s)", name, err, logPath)
		}
		resPath := filepath.Join(raw, name+".json")
		b, err := os.ReadFile(resPath)
		if err != nil {
			return nil, nil, problems("parity %s: %v (see %s)", name, err, logPath)
		}
		res, err := vllmbench.Parse(resPath, b)
		if err != nil {
			return nil, nil, problems("%v", err)
		}
		sum, err := vllmbench.ToSummary(res, vllmbench.Options{RunID: runID, Experiment: p.Experiment, Provenance: prov, Index: l.Index})
		if err != nil {
			return nil, nil, problems("%v", err)
		}
		out, err := bench.EncodeSummary(sum)
		if err != nil {
			return nil, nil, problems("%v", err)
		}
		if err := os.WriteFile(filepath.Join(imported, name+".summary.json"), out, 0o644); err != nil {
			return nil, nil, problems("%v", err)
		}
	}
	return writeParity(env, filepath.Join(runDir, "bench"), imported, filepath.Join(runDir, parityDir, parityTable))
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
