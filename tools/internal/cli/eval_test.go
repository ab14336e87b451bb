package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// The lm-eval 0.4.13 GSM8K fixture of the eval package: a real results file
// and its samples, which the fake lm_eval copies where lm-eval writes them.
const gsm8kFixture = "../eval/testdata/lmeval-0.4.13-gsm8k"

// Small stand-ins for GSM8K's test and train files, resolved through the
// data cache by their sha256 like the pinned ones.
const (
	gsm8kTest  = `{"question": "What is 2 + 3?", "answer": "2 + 3 = 5\n#### 5"}` + "\n"
	gsm8kTrain = `{"question": "What is 1 + 1?", "answer": "1 + 1 = 2\n#### 2"}` + "\n"
)

// fakePython answers lmEvalVersion's
// `python -c "import importlib.metadata as m; print(m.version('lm_eval'))"`
// with a fixed version, and fails on anything else.
func fakePython(version string) string {
	ids, _ := json.Marshal(probeIDs())
	return `#!/bin/sh
if [ "$1" = "-c" ]; then
  case "$2" in
    *"version('lm_eval')"*) echo ` + version + `; exit 0 ;;
    *"AutoTokenizer"*) echo '` + string(ids) + `'; exit 0 ;;
  esac
fi
echo "fake python: unexpected arguments: $*" >&2
exit 1
`
}

// recordArgs is the start of every fake lm_eval: it writes its arguments,
// one a line, to "calls" beside itself, so a test sees whether and how it ran.
const recordArgs = `#!/bin/sh
printf '%s\n' "$@" > "$(dirname "$0")/calls"
`

// lmEvalCopying is a fake lm_eval that writes what lm-eval 0.4 writes under
// --output_path (a model directory holding results_<date>.json and one
// samples_<task>_<date>.jsonl): the committed fixture files.
func lmEvalCopying(t *testing.T) string {
	t.Helper()
	results := fixtureAbs(t, "results_*.json")
	samples := fixtureAbs(t, "samples_gsm8k_forge_*.jsonl")
	return recordArgs + `out=
while [ $# -gt 0 ]; do
  case "$1" in
    --output_path) out=$2; shift ;;
  esac
  shift
done
if [ -z "$out" ]; then echo "no --output_path" >&2; exit 2; fi
mkdir -p "$out/m" || exit 1
cp '` + results + `' "$out/m/results_2026-01-01T00-00-00.json" || exit 1
cp '` + samples + `' "$out/m/samples_gsm8k_forge_2026-01-01T00-00-00.jsonl" || exit 1
echo "fake lm-eval: wrote $out/m"
`
}

// lmEvalFailing prints a line and exits 3, as lm-eval does on a traceback.
const lmEvalFailing = recordArgs + `echo boom
exit 3
`

func fixtureAbs(t *testing.T, glob string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(gsm8kFixture, glob))
	if err != nil || len(m) != 1 {
		t.Fatalf("fixture %s: %v %v", glob, m, err)
	}
	abs, err := filepath.Abs(m[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(abs, '\'') {
		t.Skipf("fixture path %s cannot be single-quoted in a shell script", abs)
	}
	return abs
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func writeExec(t *testing.T, path, script string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// evalSetup is one `forge eval` case's world.
type evalSetup struct {
	runDir string     // holds plan.json
	plan   *plan.Plan // as written to plan.json
	bin    string     // the fake lm_eval
	calls  string     // where the fake lm_eval records its arguments
	test   string     // sha256 of the seeded test file
}

// newEvalSetup writes a run directory whose plan.json is the rehearsal
// experiment's with its eval block reduced to gsm8k, the data pinned to
// small seeded files (or, with badData, to the real GSM8K hashes, which the
// seeded files do not match) and every dataset URL pointed at a closed
// local port, so nothing is ever downloaded. lmEval is the fake lm_eval's
// script ("" writes none); python is the sibling python's version ("" writes
// none).
func newEvalSetup(t *testing.T, lmEval, python string, badData bool) evalSetup {
	t.Helper()
	p, err := planFor(Env{Stdout: discard{}, Stderr: discard{}}, "", "../../../experiments", "rehearsal", nil)
	if err != nil {
		t.Fatal(err)
	}
	seed, cache := t.TempDir(), t.TempDir()
	for rel, body := range map[string]string{"gsm8k/test.jsonl": gsm8kTest, "gsm8k/train.jsonl": gsm8kTrain} {
		path := filepath.Join(seed, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FORGE_DATA_SEED", seed)
	t.Setenv("FORGE_DATA_CACHE", cache)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	var gsm *plan.Task
	for i := range p.Eval.Tasks {
		if p.Eval.Tasks[i].Name == "gsm8k" {
			gsm = &p.Eval.Tasks[i]
		}
	}
	if gsm == nil {
		t.Fatal("the rehearsal has no gsm8k eval task")
	}
	s := evalSetup{test: hexSHA256(gsm8kTest)}
	for i := range gsm.Data {
		d := &gsm.Data[i].Dataset
		if d.Path != "gsm8k/test.jsonl" && d.Path != "gsm8k/train.jsonl" {
			t.Fatalf("unexpected gsm8k data %s", d.Path)
		}
		d.URL = dead.URL + "/" + d.Path
		if !badData {
			body := map[string]string{"gsm8k/test.jsonl": gsm8kTest, "gsm8k/train.jsonl": gsm8kTrain}[d.Path]
			d.SHA256, d.SizeBytes = hexSHA256(body), int64(len(body))
		}
	}
	p.Eval.Tasks = []plan.Task{*gsm}
	p.Eval.Baseline = "" // no retention step after the eval
	// lm-eval's tokenizer is the model's own directory, which the fake
	// python reads nothing from; it must exist, and (as any path in
	// lm-eval's --model_args) hold no comma, which subtest names can.
	tok, err := os.MkdirTemp("", "forge-tokenizer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tok) })
	p.Eval.Tokenizer.Source = tok

	s.runDir = filepath.Join(t.TempDir(), "20260101T000000Z-test")
	if err := os.MkdirAll(s.runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := plan.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.runDir, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	s.plan = p

	bin := t.TempDir()
	s.bin, s.calls = filepath.Join(bin, "lm_eval"), filepath.Join(bin, "calls")
	if lmEval != "" {
		writeExec(t, s.bin, lmEval)
	}
	if python != "" {
		writeExec(t, filepath.Join(bin, "python"), fakePython(python))
	}
	return s
}

// probeIDs is what the fake python's tokenizer gives the token-count
// check's texts (pipeline.TokenProbes): BOS and one id per word.
func probeIDs() [][]int {
	out := make([][]int, len(pipeline.TokenProbes))
	for i, text := range pipeline.TokenProbes {
		out[i] = []int{1}
		for j := range strings.Fields(text) {
			out[i] = append(out[i], 100+j)
		}
	}
	return out
}

// echoCompletion answers a token-count probe as vLLM does: a text prompt
// is tokenized with BOS (as the fake python counts it), ids are taken as
// they are, and the prompt's log-probabilities are echoed.
func echoCompletion(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Prompt json.RawMessage `json:"prompt"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var text string
	var ids []int
	n := 0
	if json.Unmarshal(req.Prompt, &text) == nil {
		n = 1 + len(strings.Fields(text))
	} else if json.Unmarshal(req.Prompt, &ids) == nil {
		n = len(ids)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"choices": []any{map[string]any{"text": "x", "logprobs": map[string]any{"token_logprobs": make([]*float64, n+1)}}},
		"usage":   map[string]int{"prompt_tokens": n, "completion_tokens": 1},
	})
}

// modelsServer answers /v1/models with the given ids and the token-count
// check's completions; anything else is 404.
func modelsServer(t *testing.T, ids ...string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/completions" {
			echoCompletion(w, r)
			return
		}
		if r.URL.Path != "/v1/models" {
			http.NotFound(w, r)
			return
		}
		var data []map[string]string
		for _, id := range ids {
			data = append(data, map[string]string{"id": id, "object": "model", "root": id})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func closedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// TestEvalFailures: each way `forge eval` can fail before or while running
// lm-eval is one clear message, exit 1, and no eval/gsm8k.json.
func TestEvalFailures(t *testing.T) {
	served := "smollm2-135m-instruct" // the rehearsal's served name (checked below against the plan)
	tests := []struct {
		name         string
		lmEval       string // fake lm_eval script; "" writes none
		copying      bool   // the fake lm_eval writes the fixture (overrides lmEval)
		python       string // fake python's version; "" writes none
		badData      bool
		evalDir      bool                      // eval/ exists before the run (an earlier eval of the run)
		server       func(t *testing.T) string // --base-url
		flagLMEval   string                    // --lm-eval; "" uses the fake one
		emptyPath    bool                      // PATH holds nothing (no python3, no lm_eval)
		wantErr      []string
		wantStderr   []string
		lmEvalRan    bool
		evalDirPaths bool // the error names the run's eval directory
		namesServer  bool // the error names --base-url
	}{
		{
			name:   "server unreachable",
			lmEval: lmEvalFailing, python: "0.4.13",
			server:      func(t *testing.T) string { return closedURL() },
			wantErr:     []string{"unreachable", "start it first"},
			namesServer: true,
		},
		{
			name:   "another model served",
			lmEval: lmEvalFailing, python: "0.4.13",
			server:      func(t *testing.T) string { return modelsServer(t, "other") },
			wantErr:     []string{"serves other, not " + served, "another experiment's server"},
			namesServer: true,
		},
		{
			name:   "not a model list",
			lmEval: lmEvalFailing, python: "0.4.13",
			server: func(t *testing.T) string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "nope", http.StatusInternalServerError)
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			wantErr:     []string{"/v1/models answered HTTP 500"},
			namesServer: true,
		},
		{
			name:       "lm-eval missing",
			server:     func(t *testing.T) string { return modelsServer(t, served) },
			flagLMEval: "/nonexistent/lm_eval",
			wantErr:    []string{"lm-eval is missing", "/nonexistent/lm_eval", "make venv-eval"},
		},
		{
			name:   "lm-eval version unreadable",
			lmEval: lmEvalFailing, python: "", emptyPath: true,
			server:  func(t *testing.T) string { return modelsServer(t, served) },
			wantErr: []string{"cannot read its version with python3", "make venv-eval"},
		},
		{
			name:   "data hash mismatch",
			lmEval: lmEvalFailing, python: "0.4.13", badData: true,
			server:       func(t *testing.T) string { return modelsServer(t, served) },
			wantStderr:   []string{"eval gsm8k: task gsm8k: dataset gsm8k/test.jsonl", "sha256 mismatch"},
			evalDirPaths: true,
		},
		{
			// As above in a run directory that already has eval/: the
			// summary names the failed task. (Without eval/, evalRun's
			// ValidateTree of the missing directory replaces the summary
			// with an lstat error; the case above only checks what holds
			// either way.)
			name:   "data hash mismatch, eval/ present",
			lmEval: lmEvalFailing, python: "0.4.13", badData: true, evalDir: true,
			server:       func(t *testing.T) string { return modelsServer(t, served) },
			wantErr:      []string{"1 task(s) failed (gsm8k)"},
			wantStderr:   []string{"eval gsm8k: task gsm8k: dataset gsm8k/test.jsonl", "sha256 mismatch"},
			evalDirPaths: true,
		},
		{
			// The server adds a second BOS to text prompts that lm-eval's
			// tokenizer does not count: lm-eval is never started.
			name:   "token counts disagree",
			lmEval: lmEvalFailing, python: "0.4.13",
			server: func(t *testing.T) string {
				models := modelsServer(t, served)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/v1/completions" {
						_ = json.NewEncoder(w).Encode(map[string]any{
							"choices": []any{map[string]any{"logprobs": map[string]any{"token_logprobs": make([]*float64, 100)}}},
							"usage":   map[string]int{"prompt_tokens": 99},
						})
						return
					}
					http.Redirect(w, r, models+r.URL.Path, http.StatusTemporaryRedirect)
				}))
				t.Cleanup(srv.Close)
				return srv.URL
			},
			wantErr: []string{"token-count check failed", "the server 99", "the eval is not run"},
		},
		{
			name:   "lm-eval fails",
			lmEval: lmEvalFailing, python: "0.4.13",
			server:       func(t *testing.T) string { return modelsServer(t, served) },
			wantErr:      []string{"1 task(s) failed (gsm8k)"},
			wantStderr:   []string{"eval gsm8k: lm-eval failed (exit status 3)", "boom"},
			lmEvalRan:    true,
			evalDirPaths: true,
		},
		{
			// lm-eval 0.4.13 wrote the results, but the venv says 0.4.99:
			// the run would name the wrong harness version.
			name:    "lm-eval version differs from its results",
			copying: true, python: "0.4.99",
			server:       func(t *testing.T) string { return modelsServer(t, served) },
			wantErr:      []string{"1 task(s) failed (gsm8k)"},
			wantStderr:   []string{"was written by lm-eval 0.4.13", "is 0.4.99"},
			lmEvalRan:    true,
			evalDirPaths: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			script := tt.lmEval
			if tt.copying {
				script = lmEvalCopying(t)
			}
			s := newEvalSetup(t, script, tt.python, tt.badData)
			if s.plan.Model.ServedName != served {
				t.Fatalf("the rehearsal serves %q, the cases expect %q", s.plan.Model.ServedName, served)
			}
			if tt.evalDir {
				if err := os.MkdirAll(filepath.Join(s.runDir, "eval"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if tt.emptyPath {
				t.Setenv("PATH", t.TempDir())
			}
			base := tt.server(t)
			lm := s.bin
			if tt.flagLMEval != "" {
				lm = tt.flagLMEval
			}
			_, stderr, err := runErr("eval", s.runDir, "--base-url", base, "--lm-eval", lm)
			if code := ExitCode(err); code != ExitProblems {
				t.Fatalf("exit %d (%v), want %d; stderr:\n%s", code, err, ExitProblems, stderr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if tt.namesServer && !strings.Contains(err.Error(), base) {
				t.Errorf("error does not name the server %s: %v", base, err)
			}
			if tt.evalDirPaths && !strings.Contains(err.Error(), filepath.Join(s.runDir, "eval")) {
				t.Errorf("error does not name %s: %v", filepath.Join(s.runDir, "eval"), err)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(s.calls); (err == nil) != tt.lmEvalRan {
				t.Errorf("lm_eval ran: %v, want %v", err == nil, tt.lmEvalRan)
			}
			if _, err := os.Stat(filepath.Join(s.runDir, "eval", "gsm8k.json")); !os.IsNotExist(err) {
				t.Errorf("eval/gsm8k.json written after a failure (stat: %v)", err)
			}
		})
	}
}

// TestEvalSuccess runs `forge eval` with a fake lm_eval that writes the
// committed lm-eval 0.4.13 GSM8K fixture: eval/gsm8k.json is a valid eval
// run carrying the fixture's score, the plan's model and data hash, and a
// samples_file that leads to the samples.
func TestEvalSuccess(t *testing.T) {
	s := newEvalSetup(t, lmEvalCopying(t), "0.4.13", false)
	base := modelsServer(t, s.plan.Model.ServedName)
	stdout, stderr, err := runErr("eval", s.runDir, "--base-url", base, "--lm-eval", s.bin)
	if err != nil {
		t.Fatalf("forge eval: %v\nstderr:\n%s", err, stderr)
	}
	out := filepath.Join(s.runDir, "eval", "gsm8k.json")
	if !strings.Contains(stdout, "eval gsm8k: "+out) {
		t.Errorf("stdout does not name %s:\n%s", out, stdout)
	}

	// What lm_eval was asked: the plan's gsm8k limit, the offline task,
	// the server and model, samples logged where samples_file will point.
	gsm := s.plan.Eval.Tasks[0]
	if gsm.Limit == nil {
		t.Fatal("the rehearsal's gsm8k has no limit")
	}
	rawOut := filepath.Join(s.runDir, "eval", "raw", "gsm8k", "output")
	callsB, err := os.ReadFile(s.calls)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(callsB), "\n"), "\n")
	for flag, want := range map[string]string{
		"--model":        "local-completions",
		"--tasks":        "gsm8k_forge",
		"--include_path": filepath.Join(s.runDir, "eval", "raw", "gsm8k", "tasks"),
		"--output_path":  rawOut,
		"--limit":        fmt.Sprint(*gsm.Limit),
		"--seed":         "0,1234,1234,1234", // lm-eval's defaults: the few-shot seed stays 1234
	} {
		if got := argAfter(args, flag); got != want {
			t.Errorf("lm_eval %s %q, want %q (args %q)", flag, got, want, args)
		}
	}
	if ma := argAfter(args, "--model_args"); !strings.Contains(ma, "base_url="+base+"/v1/completions,model="+s.plan.Model.ServedName+",") ||
		!strings.Contains(ma, fmt.Sprintf("num_concurrent=%d", s.plan.Eval.NumConcurrent)) ||
		!strings.Contains(ma, fmt.Sprintf(",max_length=%d", s.plan.Engine.MaxModelLen-1)) ||
		!strings.Contains(ma, ",tokenized_requests=True,tokenizer_backend=huggingface,tokenizer="+s.plan.Eval.Tokenizer.Source+",add_bos_token=True,") {
		t.Errorf("--model_args %q: want the model's own tokenizer with BOS, token ids sent, max_length = max_model_len − 1", ma)
	}
	if !contains(args, "--log_samples") {
		t.Errorf("no --log_samples in %q", args)
	}

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	findings, err := schemas.ValidateJSON(schemas.EvalRun, b)
	if err != nil || len(findings) != 0 {
		t.Errorf("%s does not validate: %v %+v\n%s", out, err, findings, b)
	}
	var rec eval.Run
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}

	// The fixture's own figures, read generically.
	var fx struct {
		Results  map[string]map[string]any     `json:"results"`
		NSamples map[string]map[string]float64 `json:"n-samples"`
		NShot    map[string]int                `json:"n-shot"`
		Config   map[string]any                `json:"config"`
		Version  string                        `json:"lm_eval_version"`
		Hashes   map[string]string             `json:"task_hashes"`
	}
	fb, err := os.ReadFile(fixtureAbs(t, "results_*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fb, &fx); err != nil {
		t.Fatal(err)
	}
	wantScore := fx.Results["gsm8k_forge"]["exact_match,strict-match"].(float64)
	wantN := int(fx.NSamples["gsm8k_forge"]["effective"])

	if rec.Schema != schemas.EvalRun || rec.RunID != filepath.Base(s.runDir) || rec.Experiment != "rehearsal" {
		t.Errorf("schema %q run %q experiment %q", rec.Schema, rec.RunID, rec.Experiment)
	}
	if rec.Model != (eval.Model{Repo: s.plan.Model.Repo, Revision: s.plan.Model.Revision, ServedName: s.plan.Model.ServedName}) {
		t.Errorf("model %+v, want the plan's %s@%s", rec.Model, s.plan.Model.Repo, s.plan.Model.Revision)
	}
	if rec.Harness.Name != "lm-eval" || rec.Harness.Version != fx.Version || fx.Version != "0.4.13" ||
		rec.Harness.FewshotSeed == nil || float64(*rec.Harness.FewshotSeed) != fx.Config["fewshot_seed"] {
		t.Errorf("harness %+v, fixture version %s few-shot seed %v", rec.Harness, fx.Version, fx.Config["fewshot_seed"])
	}
	if len(rec.Tasks) != 1 {
		t.Fatalf("tasks %+v, want one", rec.Tasks)
	}
	tk := rec.Tasks[0]
	if tk.Task != "gsm8k" || tk.Filter != "strict-match" || tk.Metric != "exact_match" || tk.Shots != gsm.Shots || tk.Shots != fx.NShot["gsm8k_forge"] {
		t.Errorf("task %+v", tk)
	}
	if tk.Score != wantScore || tk.N != wantN || tk.Limit == nil || float64(*tk.Limit) != fx.Config["limit"].(float64) {
		t.Errorf("score %v n %d limit %v, fixture %v %d %v", tk.Score, tk.N, tk.Limit, wantScore, wantN, fx.Config["limit"])
	}
	if tk.TaskHash == nil || *tk.TaskHash != fx.Hashes["gsm8k_forge"] {
		t.Errorf("task hash %v, fixture %q", tk.TaskHash, fx.Hashes["gsm8k_forge"])
	}
	if d := rec.Provenance.DatasetSHA256; d == nil || *d != s.test {
		t.Errorf("dataset_sha256 %v, want the test file's %s", d, s.test)
	}
	if rec.SamplesFile != "raw/gsm8k/output" {
		t.Errorf("samples_file %q, want raw/gsm8k/output", rec.SamplesFile)
	}
	if st, err := os.Stat(filepath.Join(s.runDir, "eval", filepath.FromSlash(rec.SamplesFile))); err != nil || !st.IsDir() {
		t.Errorf("samples_file %s is not a directory: %v", rec.SamplesFile, err)
	}
	// The retention reader finds the samples through samples_file.
	sides, err := eval.LoadSides(s.runDir)
	if err != nil || len(sides) != 1 {
		t.Fatalf("LoadSides: %v %v", sides, err)
	}
	if src := sides[0].Samples["gsm8k"]; src.Dir != rawOut || len(src.Tasks) != 1 || src.Tasks[0] != "gsm8k_forge" {
		t.Errorf("samples source %+v", src)
	}
	// The offline task definition reads the cached test file, not the seed.
	yaml, err := os.ReadFile(filepath.Join(s.runDir, "eval", "raw", "gsm8k", "tasks", "gsm8k_forge.yaml"))
	if err != nil || !strings.Contains(string(yaml), filepath.Join(os.Getenv("FORGE_DATA_CACHE"), "sha256", s.test, "test.jsonl")) {
		t.Errorf("task definition (%v):\n%s", err, yaml)
	}
	// The log keeps the command and lm_eval's output.
	logB, err := os.ReadFile(filepath.Join(s.runDir, "eval", "raw", "gsm8k", "lm-eval.log"))
	if err != nil || !strings.HasPrefix(string(logB), "# "+s.bin+" --model local-completions") || !strings.Contains(string(logB), "fake lm-eval: wrote") {
		t.Errorf("lm-eval.log (%v):\n%s", err, logB)
	}
	if !strings.Contains(stderr, fmt.Sprintf("exact_match strict-match = %.4f on %d documents", wantScore, wantN)) {
		t.Errorf("stderr lacks the score line:\n%s", stderr)
	}
	if _, stderr, code := run(t, "validate", filepath.Join(s.runDir, "eval")); code != ExitOK {
		t.Errorf("forge validate on eval/: exit %d\n%s", code, stderr)
	}
}

func argAfter(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEvalFailedTaskKeepsRetention: one task of two fails (hellaswag, here
// without its pinned data); the other's record is written, its paired
// retention against the baseline's latest complete run is written too, and
// forge eval still fails naming the failed task.
func TestEvalFailedTaskKeepsRetention(t *testing.T) {
	s := newEvalSetup(t, lmEvalCopying(t), "0.4.13", false)
	server := modelsServer(t, s.plan.Model.ServedName)
	root := t.TempDir()
	planJSON, err := os.ReadFile(filepath.Join(s.runDir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	baseDir := filepath.Join(root, "base", "20260101T000000Z-base")
	if err := os.MkdirAll(baseDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(baseDir, "plan.json"), planJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runErr("eval", baseDir, "--base-url", server, "--lm-eval", s.bin, "--results", root); err != nil {
		t.Fatalf("baseline eval: %v\n%s", err, stderr)
	}
	if err := rundir.Dir(baseDir).WriteState(rundir.State{State: rundir.Complete, StartedAt: "2026-01-01T00:00:00Z", TimeScale: 1}); err != nil {
		t.Fatal(err)
	}

	p := *s.plan
	ev := *p.Eval
	ev.Tasks = append(append([]plan.Task(nil), ev.Tasks...), plan.Task{Name: "hellaswag", Shots: 5, Metric: "acc_norm"})
	ev.Baseline = "base"
	p.Eval = &ev
	b, err := plan.Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	candDir := filepath.Join(root, "cand", "20260102T000000Z-cand")
	if err := os.MkdirAll(candDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(candDir, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runErr("eval", candDir, "--base-url", server, "--lm-eval", s.bin, "--results", root)
	if err == nil || !strings.Contains(err.Error(), "hellaswag") {
		t.Fatalf("forge eval with a failing task: %v, want an error naming hellaswag\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(candDir, "eval", "gsm8k.json")); err != nil {
		t.Errorf("the task that succeeded has no record: %v", err)
	}
	// Same revision on both sides: the paired record is the noise floor.
	if _, err := os.Stat(filepath.Join(candDir, "eval", "noise-floor.json")); err != nil {
		t.Errorf("no paired retention for the task that succeeded: %v\n%s", err, stderr)
	}
}
