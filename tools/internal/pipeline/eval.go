package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/data"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/results"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// lmEvalSeeds are lm-eval's own default seeds (python, numpy, torch,
// few-shot; lm-eval 0.4.13 _cli/run.py default_seed_string), passed
// explicitly: a single `--seed 0` would also set the few-shot sampler's
// seed to 0, and every prompt would show other examples than everyone
// else's lm-eval run of the same task.
const lmEvalSeeds = "0,1234,1234,1234"

// LMEvalBin is the pinned lm-eval of requirements/eval.txt (make venv-eval).
const LMEvalBin = ".venv/eval/bin/lm_eval"

// Eval runs every task of the plan's eval block. A task that fails
// (its data, lm-eval itself, its output) is reported and the next one runs;
// what finished stays on disk.
func Eval(ctx context.Context, env Out, p *plan.Plan, runDir, base, lmEval string) error {
	if p.Eval == nil || len(p.Eval.Tasks) == 0 {
		return fmt.Errorf("experiment %s has no eval block: add eval { task \"mmlu\" { shots = 5 metric = \"acc\" } } (%s:%d)", p.Experiment, p.Source.File, p.Source.Line)
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
	tok, err := lmEvalTokenizer(p)
	if err != nil {
		return err
	}
	if err := CheckTokenCounts(ctx, http.DefaultClient, base, p.Model.ServedName, lmEvalTokens(venvPython(bin), tok, tokenizerEnv(tok))); err != nil {
		return err
	}
	runID := filepath.Base(runDir)
	prov := provenance.Discover(ctx, http.DefaultClient, base, p.Model.ServedName, Declared(p))
	var failed []string
	for _, t := range p.Eval.Tasks {
		if ctx.Err() != nil {
			// Stopped: the tasks not yet run keep what they had (evalTask
			// replaces a task's records before it runs lm-eval).
			failed = append(failed, t.Name+" (not run: interrupted)")
			continue
		}
		path, err := evalTask(ctx, env, p, t, runDir, bin, version, runID, prov, localTarget(p, base, tok))
		if err != nil {
			fmt.Fprintf(env.Stderr, "eval %s: %v\n", t.Name, err)
			failed = append(failed, t.Name)
			continue
		}
		fmt.Fprintf(env.Stdout, "eval %s: %s\n", t.Name, path)
	}
	probs, err := checkEvalRecords(env, runDir)
	if err != nil {
		return err
	}
	if len(failed) > 0 || probs > 0 {
		return fmt.Errorf("eval: %d task(s) failed (%s), %d file problem(s); what finished is in %s", len(failed), strings.Join(failed, ", "), probs, filepath.Join(runDir, rundir.EvalDir))
	}
	return nil
}

// checkEvalRecords validates every file under the run's eval/ against its
// schema, prints each problem and counts them.
func checkEvalRecords(env Out, runDir string) (int, error) {
	dir := filepath.Join(runDir, rundir.EvalDir)
	if !dirExists(dir) {
		return 0, nil
	}
	probs, err := results.ValidateTree(dir)
	if err != nil {
		return 0, fmt.Errorf("%v", err)
	}
	for _, pr := range probs {
		fmt.Fprintln(env.Stderr, pr.String())
	}
	return len(probs), nil
}

// EvalAndRetain is `forge eval` at a run directory: every task against the
// server (baseURL, else the plan's host and port), then the retention of
// the tasks that succeeded against the baseline, also when another failed.
func EvalAndRetain(ctx context.Context, out Out, p *plan.Plan, runDir, baseURL, lmEval, resultsDir string) error {
	base := provenance.ServerURL(baseURL)
	if base == "" {
		base = fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	}
	evalErr := Eval(ctx, out, p, runDir, base, lmEval)
	return cmp.Or(evalErr, RetentionFor(out, p, runDir, resultsDir))
}

// evalTask writes one task's offline definition, runs lm-eval on it and
// turns its results into eval/<task>.json.
func evalTask(ctx context.Context, env Out, p *plan.Plan, t plan.Task, runDir, bin, version, runID string, prov provenance.Record, tgt evalTarget) (string, error) {
	// A re-run replaces the task's record and lm-eval output together, so
	// a failure never leaves a record pointing at deleted samples.
	path := filepath.Join(runDir, rundir.EvalDir, t.Name+".json")
	raw := filepath.Join(runDir, rundir.EvalDir, rundir.RawDir, t.Name)
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
	args := append([]string{"--model", tgt.model, "--model_args", tgt.modelArgs}, tgt.extra...)
	args = append(args, "--tasks", suite.Task, "--include_path", suite.Dir,
		"--log_samples", "--output_path", out, "--seed", lmEvalSeeds)
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
	spec := proc.Spec{Name: "lm-eval", Argv: append([]string{bin}, args...), Output: log,
		Env: append([]string{"HF_DATASETS_OFFLINE=1", "TOKENIZERS_PARALLELISM=false"}, tgt.env...)}
	fmt.Fprintf(env.Stderr, "eval %s: lm-eval %s, %d-shot, limit %s, against %s (log %s)\n", t.Name, suite.Task, t.Shots, limitText(limit), tgt.base, logPath)
	start := time.Now()
	if err := proc.Run(ctx, spec, 10*time.Second); err != nil {
		return "", fmt.Errorf("lm-eval failed (%v) after %s; the last lines of %s:\n%s", err, time.Since(start).Round(time.Second), logPath, indent(proc.Tail(logPath, 12)))
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
		Model: tgt.record, Provenance: prov, Tasks: map[string]eval.TaskRef{suite.Task: suite.Ref}})
	if err != nil {
		return "", err
	}
	run.API = tgt.api
	rel, err := filepath.Rel(filepath.Join(runDir, rundir.EvalDir), out)
	if err != nil {
		return "", err
	}
	run.SamplesFile = filepath.ToSlash(rel)
	if suite.Ref.LogLikelihood {
		n, err := countIn(logPath, "Left truncating context")
		if err != nil {
			return "", err
		}
		for i := range run.Tasks {
			run.Tasks[i].Truncated = &n
		}
		if n > 0 {
			fmt.Fprintf(env.Stderr, "eval %s: lm-eval left-truncated %d prompt(s) to max_length %d\n", t.Name, n, lmEvalMaxLength(p))
		}
	}
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
		return d.Resolve(ctx, data.Options{})
	}
}

// findLMEval picks the pinned lm_eval: the flag, the project venv, PATH.
func findLMEval(flagPath string) (string, error) {
	if flagPath != "" {
		if fileExists(flagPath) {
			return flagPath, nil
		}
	} else if fileExists(LMEvalBin) {
		return LMEvalBin, nil
	} else if p, err := exec.LookPath("lm_eval"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("lm-eval is missing: %s does not exist and lm_eval is not on PATH; run `make venv-eval` (requirements/eval.txt) or `nix develop .#eval`", cmp.Or(flagPath, LMEvalBin))
}

// venvPython is the Python beside lm_eval (its venv's), else python3.
func venvPython(bin string) string {
	if py := filepath.Join(filepath.Dir(bin), "python"); fileExists(py) {
		return py
	}
	return "python3"
}

// lmEvalTokenizer is the plan's tokenizer for lm-eval, a local directory
// made absolute; a plan written before Forge recorded one gets the model's
// own, as plan.Build now decides.
func lmEvalTokenizer(p *plan.Plan) (plan.EvalTokenizer, error) {
	tok := p.Eval.Tokenizer
	if tok.Backend == "" {
		tok = plan.EvalTokenizerOf(p.Model)
	}
	if tok.Revision == "" {
		abs, err := filepath.Abs(tok.Source)
		if err != nil {
			return tok, err
		}
		tok.Source = abs
		if !dirExists(abs) {
			return tok, fmt.Errorf("lm-eval's tokenizer is the model's own files in %s, which does not exist: run `forge model prepare %s` (or `forge quantize`) first", abs, p.Experiment)
		}
	}
	if strings.ContainsAny(tok.Source+tok.Revision, ",=") {
		return tok, fmt.Errorf("tokenizer %q: lm-eval's --model_args cannot carry a comma or '=' in a value; move the model to a path without them", tok.Source)
	}
	return tok, nil
}

// tokenizerEnv keeps a local tokenizer offline; a hub tokenizer may be
// fetched at its pinned revision (on a pod, vLLM has usually cached it).
func tokenizerEnv(tok plan.EvalTokenizer) []string {
	if tok.Revision == "" {
		return []string{"HF_HUB_OFFLINE=1"}
	}
	return nil
}

// evalTarget is what lm-eval evaluates: the study's own server through
// local-completions, or a hosted API through local-chat-completions
// (forge eval --api). Everything else about a task's run is the same.
type evalTarget struct {
	model     string   // lm-eval --model
	modelArgs string   // --model_args; never a secret, lm-eval copies it into its results file
	extra     []string // further lm-eval flags
	env       []string // added to lm-eval's environment
	base      string   // what is evaluated, for messages
	record    eval.Model
	api       *eval.API
}

// localTarget is the study's own server, scored with the model's tokenizer.
func localTarget(p *plan.Plan, base string, tok plan.EvalTokenizer) evalTarget {
	return evalTarget{model: "local-completions", modelArgs: lmEvalModelArgs(p, base, tok), env: tokenizerEnv(tok), base: base,
		record: eval.Model{Repo: p.Model.Repo, Revision: p.Model.Revision, ServedName: p.Model.ServedName}}
}

// lmEvalModelArgs configures local-completions: lm-eval tokenizes with the
// model's own tokenizer, adds BOS as that tokenizer does, and sends token
// ids (tokenized_requests), so the server scores exactly the tokens lm-eval
// counted (plan.EvalTokenizer, CheckTokenCounts). max_length is the
// engine's max_model_len less the one generated token: lm-eval's own
// default (2048) would left-truncate longer prompts the server takes.
func lmEvalModelArgs(p *plan.Plan, base string, tok plan.EvalTokenizer) string {
	maxLen := lmEvalMaxLength(p)
	args := fmt.Sprintf("base_url=%s/v1/completions,model=%s,num_concurrent=%d,max_retries=3,tokenized_requests=True,tokenizer_backend=%s,tokenizer=%s,add_bos_token=%s,max_length=%d",
		base, p.Model.ServedName, p.Eval.NumConcurrent, tok.Backend, tok.Source, pyBool(tok.AddBOS), maxLen)
	if tok.Revision != "" {
		args += ",revision=" + tok.Revision
	}
	return args
}

// lmEvalMaxLength is the plan's, or for an older plan max_model_len − 1.
func lmEvalMaxLength(p *plan.Plan) int {
	if p.Eval.MaxLength > 0 {
		return p.Eval.MaxLength
	}
	return p.Engine.MaxModelLen - 1
}

// countIn counts the occurrences of s in a file, streaming: lm-eval's log
// holds progress bars that rewrite one line with carriage returns, so a
// "line" can be any length.
func countIn(path, s string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pat, n := []byte(s), 0
	buf := make([]byte, 0, 64<<10+len(pat))
	chunk := make([]byte, 64<<10)
	for {
		k, err := f.Read(chunk)
		buf = append(buf, chunk[:k]...)
		n += bytes.Count(buf, pat)
		// Keep the tail that could start an occurrence cut by the chunk.
		keep := len(pat) - 1
		if i := bytes.LastIndex(buf, pat); i >= 0 && len(buf)-(i+len(pat)) < keep {
			keep = len(buf) - (i + len(pat))
		}
		if keep > len(buf) {
			keep = len(buf)
		}
		buf = append(buf[:0], buf[len(buf)-keep:]...)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// lmEvalVersion asks the venv's Python for the installed lm_eval version.
func lmEvalVersion(bin string) (string, error) {
	py := venvPython(bin)
	out, err := exec.Command(py, "-c", "import importlib.metadata as m; print(m.version('lm_eval'))").Output()
	if err != nil {
		return "", fmt.Errorf("lm-eval at %s: cannot read its version with %s (%v); reinstall with `make venv-eval`", bin, py, err)
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
		return fmt.Errorf("--base-url %q: %v", base, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the server at %s is unreachable (%v): start it first (`forge run` starts, evaluates and stops it), or pass --base-url", base, err)
	}
	defer resp.Body.Close()
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&models) != nil {
		return fmt.Errorf("%s/v1/models answered HTTP %d, not an OpenAI model list: is this the experiment's server?", base, resp.StatusCode)
	}
	var ids []string
	for _, m := range models.Data {
		if m.ID == served {
			return nil
		}
		ids = append(ids, m.ID)
	}
	return fmt.Errorf("the server at %s serves %s, not %s: another experiment's server holds the port", base, strings.Join(ids, ", "), served)
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

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func dirExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// EvalRunDir creates an eval-only run directory for `forge eval
// EXPERIMENT` (no sweep: no levels), in state running.
func EvalRunDir(resultsRoot string, p *plan.Plan) (rundir.Dir, error) {
	d, _, err := newRun(resultsRoot, p.Experiment, p, "", time.Now(), 1, nil)
	return d, err
}

// Finish records the end of a run that is not a sweep (an eval-only run):
// complete when err is nil, incomplete when ctx ended (the user stopped
// it), failed with err as the cause otherwise.
func Finish(ctx context.Context, d rundir.Dir, err error) error {
	st, rerr := d.ReadState()
	if rerr != nil {
		return rerr
	}
	st.State, st.Cause, st.ForgePID = rundir.Complete, "", 0
	switch {
	case err != nil && ctx.Err() != nil:
		st.State, st.Cause = rundir.Incomplete, "interrupted: "+err.Error()
	case err != nil:
		st.State, st.Cause = rundir.Failed, err.Error()
	}
	return d.WriteState(st)
}
