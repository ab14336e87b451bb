package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/results"
)

// lmEvalBin is the pinned lm-eval of requirements/eval.txt (make venv-eval).
const lmEvalBin = ".venv/eval/bin/lm_eval"

// runEval is `forge eval RUN_DIR|EXPERIMENT`: lm-eval against the running
// server, one task at a time, into RUN_DIR/eval/. A run directory uses its
// plan.json; an experiment name starts a new eval-only run directory.
func runEval(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "eval", "RUN_DIR|EXPERIMENT [--base-url URL] [--lm-eval PATH] [--experiments DIR] [--results DIR] [--var name=value]...")
	baseURL := fs.String("base-url", "", "server to evaluate (default: the plan's host and port)")
	lmEval := fs.String("lm-eval", "", "lm_eval executable (default "+lmEvalBin+", else lm_eval on PATH)")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	resultsDir := fs.String("results", "results", "results root")
	vars := varFlags{}
	fs.Var(vars, "var", "set a variable: name=value (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("eval wants one run directory or experiment name")
	}
	var p *plan.Plan
	runDir := pos[0]
	if fileExists(filepath.Join(runDir, "plan.json")) {
		if p, err = readPlan(filepath.Join(runDir, "plan.json")); err != nil {
			return err
		}
	} else {
		if p, err = planFor(env, "", *dir, pos[0], vars); err != nil {
			return err
		}
		if runDir, err = newRunDir(*resultsDir, p, ""); err != nil {
			return err
		}
	}
	base := bench.ServerURL(*baseURL)
	if base == "" {
		base = fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	}
	if err := evalRun(ctx, env, p, runDir, base, *lmEval); err != nil {
		return err
	}
	return retentionFor(env, p, runDir, *resultsDir)
}

// evalRun runs every task of the plan's eval block. A task that fails
// (its data, lm-eval itself, its output) is reported and the next one runs;
// what finished stays on disk.
func evalRun(ctx context.Context, env Env, p *plan.Plan, runDir, base, lmEval string) error {
	if p.Eval == nil || len(p.Eval.Tasks) == 0 {
		return problems("experiment %s has no eval block: add eval { task \"mmlu\" { shots = 5 metric = \"acc\" } } (%s:%d)", p.Experiment, p.Source.File, p.Source.Line)
	}
	bin, err := findLMEval(lmEval)
	if err != nil {
		return err
	}
	if err := checkServed(ctx, base, p.Model.ServedName); err != nil {
		return err
	}
	version, err := lmEvalVersion(bin)
	if err != nil {
		return err
	}
	runID := filepath.Base(runDir)
	prov := bench.DiscoverProvenance(ctx, http.DefaultClient, base, p.Model.ServedName, declared(p))
	var failed []string
	for _, t := range p.Eval.Tasks {
		path, err := evalTask(ctx, env, p, t, runDir, base, bin, version, runID, prov)
		if err != nil {
			fmt.Fprintf(env.Stderr, "eval %s: %v\n", t.Name, err)
			failed = append(failed, t.Name)
			continue
		}
		fmt.Fprintf(env.Stdout, "eval %s: %s\n", t.Name, path)
	}
	var probs []results.Problem
	if dir := filepath.Join(runDir, "eval"); fileExists(dir) {
		if probs, err = results.ValidateTree(dir); err != nil {
			return problems("%v", err)
		}
	}
	for _, pr := range probs {
		fmt.Fprintln(env.Stderr, pr.String())
	}
	if len(failed) > 0 || len(probs) > 0 {
		return problems("eval: %d task(s) failed (%s), %d file problem(s); what finished is in %s", len(failed), strings.Join(failed, ", "), len(probs), filepath.Join(runDir, "eval"))
	}
	return nil
}

// evalTask writes one task's offline definition, runs lm-eval on it and
// turns its results into eval/<task>.json.
func evalTask(ctx context.Context, env Env, p *plan.Plan, t plan.Task, runDir, base, bin, version, runID string, prov bench.Provenance) (string, error) {
	// A re-run replaces the task's record and lm-eval output together, so
	// a failure never leaves a record pointing at deleted samples.
	path := filepath.Join(runDir, "eval", t.Name+".json")
	raw := filepath.Join(runDir, "eval", results.RawDir, t.Name)
	for _, old := range []string{path, raw} {
		if err := os.RemoveAll(old); err != nil {
			return "", err
		}
	}
	suite, err := eval.WriteSuite(filepath.Join(raw, "tasks"), t, resolveDataset(ctx))
	if err != nil {
		return "", err
	}
	out := filepath.Join(raw, "output")
	args := []string{"--model", "local-completions",
		"--model_args", fmt.Sprintf("base_url=%s/v1/completions,model=%s,num_concurrent=%d,tokenized_requests=False,max_retries=3,tokenizer_backend=remote",
			base, p.Model.ServedName, p.Eval.NumConcurrent),
		"--tasks", suite.Task, "--include_path", suite.Dir,
		"--log_samples", "--output_path", out, "--seed", "0"}
	limit := p.Eval.LimitOf(t)
	if limit != nil {
		args = append(args, "--limit", strconv.Itoa(*limit))
	}
	logPath := filepath.Join(raw, "lm-eval.log")
	log, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer log.Close()
	fmt.Fprintf(log, "# %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(), "HF_DATASETS_OFFLINE=1", "HF_HUB_OFFLINE=1", "TOKENIZERS_PARALLELISM=false")
	fmt.Fprintf(env.Stderr, "eval %s: lm-eval %s, %d-shot, limit %s, against %s (log %s)\n", t.Name, suite.Task, t.Shots, limitText(limit), base, logPath)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("lm-eval failed (%v) after %s; the last lines of %s:\n%s", err, time.Since(start).Round(time.Second), logPath, tailFile(logPath, 12))
	}
	resultsFile, err := onlyMatch(out, "results_*.json")
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(resultsFile)
	if err != nil {
		return "", err
	}
	parsed, err := eval.ParseLMEval(resultsFile, b)
	if err != nil {
		return "", err
	}
	if parsed.Version != version {
		return "", fmt.Errorf("%s was written by lm-eval %s, but %s is %s", resultsFile, parsed.Version, bin, version)
	}
	prov.DatasetSHA256 = nil
	for _, d := range t.Data {
		if d.Role == "test" {
			sum := d.Dataset.SHA256
			prov.DatasetSHA256 = &sum
		}
	}
	run, err := parsed.ToRun(eval.RunOptions{RunID: runID, Experiment: p.Experiment,
		Model:      eval.Model{Repo: p.Model.Repo, Revision: p.Model.Revision, ServedName: p.Model.ServedName},
		Provenance: prov, Tasks: map[string]eval.TaskRef{suite.Task: suite.Ref}})
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(filepath.Join(runDir, "eval"), out)
	if err != nil {
		return "", err
	}
	run.SamplesFile = filepath.ToSlash(rel)
	enc, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, append(enc, '\n'), 0o644); err != nil {
		return "", err
	}
	for _, rt := range run.Tasks {
		fmt.Fprintf(env.Stderr, "eval %s: %s %s = %.4f on %d documents (%s)\n", t.Name, rt.Metric, rt.Filter, rt.Score, rt.N, time.Since(start).Round(time.Second))
	}
	return path, nil
}

func limitText(l *int) string {
	if l == nil {
		return "none"
	}
	return strconv.Itoa(*l)
}

// resolveDataset finds a pinned file or directory in the data cache.
func resolveDataset(ctx context.Context) eval.Resolver {
	return func(d plan.Dataset) (string, error) {
		f := data.File{SHA256: d.SHA256, Path: d.Path, URL: d.URL, SizeBytes: d.SizeBytes}
		if d.Format == "mmlu-csv" {
			return data.ResolveTree(f, data.Options{})
		}
		return data.Resolve(ctx, f, data.Options{})
	}
}

// findLMEval picks the pinned lm_eval: the flag, the project venv, PATH.
func findLMEval(flagPath string) (string, error) {
	if flagPath != "" {
		if fileExists(flagPath) {
			return flagPath, nil
		}
	} else if fileExists(lmEvalBin) {
		return lmEvalBin, nil
	} else if p, err := exec.LookPath("lm_eval"); err == nil {
		return p, nil
	}
	return "", problems("lm-eval is missing: %s does not exist and lm_eval is not on PATH; run `make venv-eval` (requirements/eval.txt) or `nix develop .#eval`", or(flagPath, lmEvalBin))
}

// lmEvalVersion asks the venv's Python for the installed lm_eval version.
func lmEvalVersion(bin string) (string, error) {
	py := filepath.Join(filepath.Dir(bin), "python")
	if !fileExists(py) {
		py = "python3"
	}
	out, err := exec.Command(py, "-c", "import importlib.metadata as m; print(m.version('lm_eval'))").Output()
	if err != nil {
		return "", problems("lm-eval at %s: cannot read its version with %s (%v); reinstall with `make venv-eval`", bin, py, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// checkServed asks the server for its models before lm-eval does, so that
// an unreachable server or another model is one clear line, not a retry storm.
func checkServed(ctx context.Context, base, served string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/models", nil)
	if err != nil {
		return usageErr("--base-url %q: %v", base, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return problems("the server at %s is unreachable (%v): start it first (`forge run` starts, evaluates and stops it), or pass --base-url", base, err)
	}
	defer resp.Body.Close()
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&models) != nil {
		return problems("%s/v1/models answered HTTP %d, not an OpenAI model list: is this the experiment's server?", base, resp.StatusCode)
	}
	var ids []string
	for _, m := range models.Data {
		if m.ID == served {
			return nil
		}
		ids = append(ids, m.ID)
	}
	return problems("the server at %s serves %s, not %s: another experiment's server holds the port", base, strings.Join(ids, ", "), served)
}

// onlyMatch finds the one file matching glob anywhere under dir.
func onlyMatch(dir, glob string) (string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ok, _ := filepath.Match(glob, d.Name()); ok && !d.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%s: want one %s from lm-eval, found %d", dir, glob, len(found))
	}
	return found[0], nil
}

// tailFile returns the last n lines of a file, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}
