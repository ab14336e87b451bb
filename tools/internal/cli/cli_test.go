package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), Env{Stdout: &out, Stderr: &errb}, args)
	if err != nil { // as Main prints it
		fmt.Fprintf(&errb, "forge: %v\n", err)
	}
	return out.String(), errb.String(), ExitCode(err)
}

// copyTree copies the committed experiments into a temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// badFile holds the four problems of the acceptance list in one file.
const badFile = `model "llama_bad_revision" {
  repo     = "meta-llama/Llama-3.1-8B-Instruct"
  revision = "0e9e39f249a16976918f6564b8830bc894c8965"
  dtype    = "bfloat16"
  architecture {
    layers       = 32
    hidden       = 4096
    intermediate = 14336
    heads        = 32
    kv_heads     = 8
    head_dim     = 128
    vocab        = 128256
  }
}

experiment "broken" {
  hardware = hardware.rtx_a5000
  model    = model.llama31_8b_instruct
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 8192
    max_num_seqs           = 256
    gpu_memory_utilization = 0.90
  }
  workload "sharegpt" {
    dataset = dataset.sharegpt_v3_1k
  }
  sweep {
    concurrency       = [1, 16, 4]
    prompts_per_level = 16
  }
  cost {
    utilization = [1.0]
    compare     = [api.gpt4o]
  }
}
`

// TestValidateReportsAllProblems is the acceptance check: one run reports
// a typo'd reference, a 39-character revision, a descending sweep and an
// infeasible VRAM setting, each with file:line:col, and exits 1.
func TestValidateReportsAllProblems(t *testing.T) {
	dir := copyTree(t, "../../../experiments")
	bad := filepath.Join(dir, "broken.hcl")
	if err := os.WriteFile(bad, []byte(badFile), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run(t, "validate", dir)
	if code != ExitProblems {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr)
	}
	want := []struct{ loc, summary string }{
		{":3:14: error: Revision is not a commit SHA", "40-character"},
		{":22:30: error: KV cache too small for max_num_seqs × max_model_len", "Lower max_num_seqs to"},
		{":29:33: error: Sweep not ascending", "concurrency = [1 4 16]"},
		{":34:20: error: Reference to undeclared api", `Did you mean "gpt_4o"?`},
	}
	for _, w := range want {
		if !strings.Contains(stderr, bad+w.loc) {
			t.Errorf("missing %q in:\n%s", bad+w.loc, stderr)
		}
		if !strings.Contains(stderr, w.summary) {
			t.Errorf("missing detail %q", w.summary)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^\S+:\d+:\d+: error:`).FindAllString(stderr, -1)); n != 4 {
		t.Errorf("want exactly 4 errors, got %d:\n%s", n, stderr)
	}
}

// TestValidateStudyEvalServer: a copy of the study whose eval cannot reach
// a tokenizer (the twin engine, which has none and no model to score), or
// whose GPU has no room left for the eval's prompt log-probabilities,
// fails validation at the line to change, before a GPU is rented.
func TestValidateStudyEvalServer(t *testing.T) {
	tests := []struct {
		name, from, to, loc string
	}{
		{"no room for prompt log-probabilities", `gpu_memory_utilization = 0.90`, `gpu_memory_utilization = 0.95`, ":57:30: error: No room for prompt log-probabilities"},
		{"twin engine", `engine "vllm" {`, `engine "twin" {`, ":81:3: error: Eval without a tokenizer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyTree(t, "../../../experiments")
			study := filepath.Join(dir, "llama31_8b_a5000.hcl")
			b, err := os.ReadFile(study)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tt.from) {
				t.Fatalf("the study no longer holds %q", tt.from)
			}
			// The first match only: the BF16 experiment's engine.
			if err := os.WriteFile(study, []byte(strings.Replace(string(b), tt.from, tt.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, code := run(t, "validate", dir)
			if code != ExitProblems || !strings.Contains(stderr, study+tt.loc) {
				t.Fatalf("exit %d, want 1 with %q in:\n%s", code, study+tt.loc, stderr)
			}
		})
	}
}

func TestValidateCommitted(t *testing.T) {
	stdout, stderr, code := run(t, "validate", "../../../experiments")
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "0 error(s)") || !strings.Contains(stdout, "twin") {
		t.Errorf("stdout: %s", stdout)
	}
	// Some committed prices are older than 180 days on 2026-12-03: warnings,
	// which --strict turns into a failure.
	_, stderr, code = run(t, "validate", "--strict", "--today", "2026-12-03", "../../../experiments")
	if code != ExitProblems || !strings.Contains(stderr, "warning: Stale price") {
		t.Errorf("--strict with stale prices: exit %d\n%s", code, stderr)
	}
	_, _, code = run(t, "validate", "--strict", "--today", "2026-12-03", "--max-price-age", "365", "../../../experiments")
	if code != ExitOK {
		t.Errorf("--strict with fresh prices: exit %d", code)
	}
}

func TestCommands(t *testing.T) {
	results := t.TempDir()
	if err := os.WriteFile(filepath.Join(results, "r.jsonl"), []byte("{\"schema\":\"forge.bench.record/v1\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no command", nil, ExitUsage, ""},
		{"unknown command", []string{"valdate"}, ExitUsage, ""},
		{"bad flag", []string{"validate", "--nope"}, ExitUsage, "flag provided but not defined"},
		{"missing path", []string{"validate", "/nonexistent"}, ExitUsage, ""},
		{"plan without name", []string{"plan", "--experiments", "../../../experiments"}, ExitUsage, ""},
		{"plan unknown experiment", []string{"plan", "twn", "--experiments", "../../../experiments"}, ExitProblems, ""},
		{"rehearsal of an experiment without one", []string{"plan", "twin", "--rehearsal", "--experiments", "../../../experiments"}, ExitProblems, "has no rehearsal block"},
		{"model prepare of a hub model's rehearsal", []string{"model", "prepare", "twin", "--rehearsal", "--experiments", "../../../experiments"}, ExitProblems, "has no rehearsal block"},
		{"bad results", []string{"validate", results}, ExitProblems, "r.jsonl:1"},
		{"version", []string{"version"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
		})
	}
}

func TestPlanOutMatchesStdout(t *testing.T) {
	stdout, stderr, code := run(t, "plan", "twin", "--experiments", "../../../experiments")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "plan.json")
	if _, stderr, code = run(t, "plan", "--experiments", "../../../experiments", "twin", "--out", out); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := os.ReadFile(out)
	if string(b) != stdout {
		t.Error("--out and stdout differ")
	}
	// The written plan is itself a valid result file.
	if _, stderr, code := run(t, "validate", filepath.Dir(out)); code != ExitOK {
		t.Errorf("plan.json does not validate: %s", stderr)
	}
}

// TestPlanRehearsal: --rehearsal gives the plan of the study's rehearsal,
// named NAME.rehearsal and marked with the study and its CPU exceptions.
func TestPlanRehearsal(t *testing.T) {
	stdout, stderr, code := run(t, "plan", "llama31_8b_awq_a5000", "--rehearsal", "--experiments", "../../../experiments")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"experiment": "llama31_8b_awq_a5000.rehearsal"`, `"of": "llama31_8b_awq_a5000"`,
		`"setting": "engine.dtype"`, `"baseline": "llama31_8b_bf16_a5000.rehearsal"`, `"name": "llama31_standin_awq"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %s", want)
		}
	}
}

// TestRunpodQuotesEstimate: docs/runpod.md quotes forge plan --estimate of
// both study experiments as it prints today, so the page's hours and
// dollars cannot go stale.
func TestRunpodQuotesEstimate(t *testing.T) {
	t.Chdir("../../..")
	doc, err := os.ReadFile("docs/runpod.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"llama31_8b_bf16_a5000", "llama31_8b_awq_a5000"} {
		stdout, stderr, code := run(t, "plan", name, "--estimate")
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		if !strings.Contains(string(doc), stdout) {
			t.Errorf("docs/runpod.md does not quote the estimate of %s as it is now; paste:\n%s", name, stdout)
		}
	}
}
