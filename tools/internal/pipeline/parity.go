package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/rundir"
	"github.com/forge-bench/forge/tools/internal/scrape"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
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

// newParity prepares the cross-check: vLLM's client gets exactly the
// measured requests of seq. A resumed run appends to the client's log.
func newParity(p *plan.Plan, runDir string, seq Sequence, resumed bool) (*parityRun, error) {
	if p.Engine.Kind != "vllm" {
		return nil, fmt.Errorf("--parity needs a vLLM engine (vllm bench serve), not %q", p.Engine.Kind)
	}
	if p.Workload.OutputTokens == nil {
		return nil, fmt.Errorf("--parity needs a fixed output length (workload output_tokens), which vllm bench's sharegpt loader can be given")
	}
	pr := &parityRun{p: p, runDir: runDir, raw: filepath.Join(runDir, rundir.ParityDir, rundir.RawDir),
		imported: filepath.Join(runDir, rundir.ParityDir, rundir.ImportedDir), vllm: p.Steps[0].Argv[0],
		model: p.Model.Repo, tokenizer: p.Model.Repo}
	if p.Model.Path != "" {
		pr.model, pr.tokenizer = p.Model.Path, p.Model.Path
	}
	for _, d := range []string{pr.raw, pr.imported} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("%v", err)
		}
	}
	reqs := seq.Measured
	data, err := EncodePrompts(reqs, "sharegpt")
	if err != nil {
		return nil, err
	}
	pr.n, pr.prompts = len(reqs), filepath.Join(pr.raw, "prompts.sharegpt.json")
	if err := os.WriteFile(pr.prompts, data, 0o644); err != nil {
		return nil, fmt.Errorf("%v", err)
	}
	pr.logPath = filepath.Join(pr.raw, "vllm-bench.log")
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if resumed {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	if pr.log, err = os.OpenFile(pr.logPath, flags, 0o644); err != nil {
		return nil, fmt.Errorf("%v", err)
	}
	return pr, nil
}

// level runs vllm bench serve for one closed-loop level and imports its
// result; prov is the provenance of Forge's own summary of that level (the
// same server, model and data).
func (pr *parityRun) level(ctx context.Context, env Out, l bench.Level, runID string, prov provenance.Record) error {
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
		// Forge's bench sends temperature 0 (greedy); vllm bench serve
		// stopped sending it (0.32 leaves sampling to the model's
		// generation_config, top-p over 128k logits for Llama 3.1, several
		// times slower on a CPU): the same requests need it said.
		"--temperature", "0",
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
	spec := proc.Spec{Name: "vllm bench serve", Argv: append([]string{pr.vllm}, args...), Output: pr.log,
		Env: []string{"HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1"}}
	fmt.Fprintf(env.Stderr, "parity %s: vllm bench serve, %d prompts (log %s)\n", name, pr.n, pr.logPath)
	// The server's own metrics around the client's run, as Forge scrapes
	// them around its levels: they tell the server's speed from the client's.
	hc := &http.Client{Timeout: 10 * time.Second}
	metricsURL := fmt.Sprintf("http://%s:%d/metrics", p.Engine.Host, p.Engine.Port)
	before, beforeErr := scrape.Fetch(ctx, hc, metricsURL)
	if err := proc.Run(cctx, spec, 10*time.Second); err != nil {
		return fmt.Errorf("parity %s: vllm bench serve failed: %v (see %s)", name, err, pr.logPath)
	}
	after, afterErr := scrape.Fetch(ctx, hc, metricsURL)
	resPath := filepath.Join(pr.raw, name+".json")
	b, err := os.ReadFile(resPath)
	if err != nil {
		return fmt.Errorf("parity %s: %v (see %s)", name, err, pr.logPath)
	}
	res, err := vllmbench.Parse(resPath, b)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	sum, err := vllmbench.ToSummary(res, vllmbench.Options{RunID: runID, Experiment: p.Experiment, Provenance: prov, Index: l.Index})
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	if beforeErr == nil && afterErr == nil {
		view := scrape.Diff(before, after, nil)
		sum.Server = &view
	} else {
		fmt.Fprintf(env.Stderr, "parity %s: no server metrics around vllm bench (%v %v)\n", name, beforeErr, afterErr)
	}
	out, err := bench.EncodeSummary(sum)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	if err := bench.WriteFileAtomic(filepath.Join(pr.imported, name+bench.SummaryExt), out); err != nil {
		return fmt.Errorf("%v", err)
	}
	return nil
}

// finish writes the parity table and returns the rows outside tolerance.
func (pr *parityRun) finish(env Out) (counts, timings []vllmbench.Row, err error) {
	pr.log.Close()
	return writeParity(env, filepath.Join(pr.runDir, rundir.BenchDir), pr.imported, filepath.Join(pr.runDir, rundir.ParityDir, rundir.ParityTable))
}

// ParityVerdict reports the rows outside tolerance: timing rows are
// printed (with whether the clients' overheads above the server agree),
// count rows fail the run, since the clients did not send the same work.
func ParityVerdict(env Out, runDir string, counts, timings []vllmbench.Row) error {
	table := filepath.Join(runDir, rundir.ParityDir, rundir.ParityTable)
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
		return fmt.Errorf("parity: Forge and vLLM's client disagree on %d count(s) (%s %s: Forge %g, vLLM %g): they did not send the same work; see %s",
			len(counts), counts[0].Level, counts[0].Metric, counts[0].Forge, counts[0].VLLM, table)
	}
	return nil
}

// writeParity compares a run's bench directory with its imported vLLM
// summaries, prints the table and writes it to mdPath (forge run --parity).
// It returns the rows outside tolerance, split into counts (completed
// requests, input and output tokens: the two clients must agree exactly, or
// they did not send the same work) and timings (noisy on a shared machine,
// judged by a person with the table).
func writeParity(env Out, forgeDir, vllmDir, mdPath string) (counts, timings []vllmbench.Row, err error) {
	rows, err := Parity(env, forgeDir, vllmDir, mdPath, "")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range rows {
		switch {
		case r.Within:
		case vllmbench.IsCount(r.Metric):
			counts = append(counts, r)
		default:
			timings = append(timings, r)
		}
	}
	return counts, timings, nil
}

// Parity loads both directories, compares them with the default
// tolerances, writes the table to stdout and to mdPath, the rows to
// jsonPath (either path may be empty), and the verdict to stderr.
func Parity(env Out, forgeDir, vllmDir, mdPath, jsonPath string) ([]vllmbench.Row, error) {
	forge, err := loadSummaries(forgeDir, "forge", "FORGE_BENCH_DIR")
	if err != nil {
		return nil, err
	}
	vllm, err := loadSummaries(vllmDir, vllmbench.Source, "VLLM_DIR")
	if err != nil {
		return nil, err
	}
	rows, unpaired, err := vllmbench.CompareSets(forge, vllm, vllmbench.DefaultTolerances())
	if err != nil {
		return nil, fmt.Errorf("parity: %v", err)
	}
	for _, u := range unpaired {
		fmt.Fprintf(env.Stderr, "parity: level %s: not compared\n", u)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("parity: no load level is in both %s and %s", forgeDir, vllmDir)
	}
	md := vllmbench.Markdown(rows)
	if _, err := env.Stdout.Write(md); err != nil {
		return nil, err
	}
	if mdPath != "" {
		if err := os.WriteFile(mdPath, md, 0o644); err != nil {
			return nil, fmt.Errorf("parity: %v", err)
		}
	}
	if jsonPath != "" {
		data, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("parity: %v", err)
		}
		if err := os.WriteFile(jsonPath, append(data, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("parity: %v", err)
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Level] = true
	}
	levels := len(seen)
	if bad := Outside(rows); bad > 0 {
		fmt.Fprintf(env.Stderr, "parity: %d of %d comparisons over %d level(s) outside tolerance\n", bad, len(rows), levels)
	} else {
		fmt.Fprintf(env.Stderr, "parity: all %d comparisons over %d level(s) within tolerance\n", len(rows), levels)
	}
	return rows, nil
}

func Outside(rows []vllmbench.Row) int {
	n := 0
	for _, r := range rows {
		if !r.Within {
			n++
		}
	}
	return n
}

// loadSummaries reads every *.summary.json of dir, each checked against the
// summary schema and required to come from the expected source.
func loadSummaries(dir, source, what string) ([]bench.Summary, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("parity: %s %s is not a directory", what, dir)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*"+bench.SummaryExt))
	if err != nil {
		return nil, fmt.Errorf("parity: %v", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("parity: %s %s has no *.summary.json", what, dir)
	}
	var out []bench.Summary
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("parity: %v", err)
		}
		findings, err := schemas.ValidateJSON(schemas.BenchSummary, data)
		if err != nil {
			return nil, fmt.Errorf("parity: %s: %v", p, err)
		}
		if len(findings) > 0 {
			msgs := make([]string, len(findings))
			for i, f := range findings {
				msgs[i] = f.Pointer + ": " + f.Message
			}
			return nil, fmt.Errorf("parity: %s is not a valid %s: %s", p, schemas.BenchSummary, strings.Join(msgs, "; "))
		}
		var s bench.Summary
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("parity: %s: %v", p, err)
		}
		if s.Source != source {
			hint := ""
			if s.Source == vllmbench.Source || source == vllmbench.Source && s.Source == "forge" {
				hint = "; are FORGE_BENCH_DIR and VLLM_DIR swapped?"
			}
			return nil, fmt.Errorf("parity: %s: source is %q, but %s holds %q summaries%s", p, s.Source, what, source, hint)
		}
		out = append(out, s)
	}
	return out, nil
}
