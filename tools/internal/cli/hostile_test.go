package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileExperiment is a valid experiment (the experiment package's
// fixture) with one edit, in a directory beside the fixture catalog.
func hostileExperiment(t *testing.T, old, new string) string {
	t.Helper()
	src, err := os.ReadFile("../experiment/testdata/valid/vars.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := os.ReadFile("../experiment/testdata/catalog/catalog.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("the fixture has no %q to edit", old)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"catalog.hcl": string(cat), "x.hcl": strings.Replace(string(src), old, new, 1)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestHostileInputs: every input a careless user or a typo can give gets a
// usage error (exit 2, naming the flag) or a validation error (exit 1,
// naming file:line), with the bound, before anything runs: never an out of
// memory, a hang or a panic (issue 20's list, one row each).
func TestHostileInputs(t *testing.T) {
	bench := func(extra ...string) []string {
		return append([]string{"bench", "--base-url", "http://127.0.0.1:9", "--model", "m", "--no-scrape", "--out", filepath.Join(t.TempDir(), "o")}, extra...)
	}
	validate := func(old, new string) []string { return []string{"validate", hostileExperiment(t, old, new)} }
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"30 million streams", bench("--concurrency", "30000000", "--num-prompts", "10"), ExitUsage, "up to 65536"},
		{"50 million prompts", bench("--concurrency", "1", "--num-prompts", "50000000"), ExitUsage, "at most 1000000"},
		{"a billion streams in HCL", validate("default     = [1, 2, 4]", "default     = [1, 4, 1000000000]"), ExitProblems, "x.hcl:26:25: error: Concurrency too high"},
		{"2 billion prompts in HCL", validate("prompts_per_level = local.twice", "prompts_per_level = 2000000000"), ExitProblems, "x.hcl:27:25: error: Too many prompts"},
		{"negative burstiness", bench("--rate", "2", "--burstiness", "-1"), ExitUsage, "burstiness must be a finite number above 0"},
		{"negative max duration", bench("--concurrency", "1", "--max-duration", "-5s"), ExitUsage, "max duration must not be negative"},
		{"base URL without a scheme", []string{"bench", "--base-url", "127.0.0.1:8000", "--model", "m", "--concurrency", "1", "--out", t.TempDir()}, ExitUsage, "give e.g. http://127.0.0.1:8000"},
		{"ftp base URL", []string{"bench", "--base-url", "ftp://127.0.0.1/", "--model", "m", "--concurrency", "1", "--out", t.TempDir()}, ExitUsage, "the scheme must be http or https"},
		{"base URL that does not parse", []string{"bench", "--base-url", "http://[::1", "--model", "m", "--concurrency", "1", "--out", t.TempDir()}, ExitUsage, "does not parse as a URL"},
		{"eval base URL without a host", []string{"eval", "twin", "--base-url", "http://", "--experiments", "../../../experiments"}, ExitUsage, "has no host"},
		{"twin time scale NaN", []string{"twin", "--experiment", "twin", "--experiments", "../../../experiments", "--time-scale", "NaN"}, ExitUsage, "--time-scale: NaN: want a number above 0"},
		{"run time scale infinite", []string{"run", "twin", "--experiments", "../../../experiments", "--results", t.TempDir(), "--time-scale", "Inf"}, ExitUsage, "--time-scale: +Inf"},
		{"fault rate NaN", []string{"twin", "--experiment", "twin", "--experiments", "../../../experiments", "--fault", "error=NaN"}, ExitUsage, "--fault: fault \"error=NaN\": want name=rate with rate in [0,1]"},
		{"run id outside the results", []string{"run", "twin", "--experiments", "../../../experiments", "--results", t.TempDir(), "--run-id", "../../x"}, ExitUsage, `--run-id run id "../../x"`},
		{"bench run id with a path", bench("--concurrency", "1", "--run-id", "a/../../b"), ExitUsage, "--run-id run id"},
		{"5,000-character experiment name", validate(`experiment "ok"`, `experiment "`+long+`"`), ExitProblems, "x.hcl:11:12: error: Name too long"},
		{"both concurrency and rate", bench("--concurrency", "1", "--rate", "2"), ExitUsage, "not both"},
		{"both concurrency and rates in HCL", validate("concurrency       = var.levels", "concurrency       = var.levels\n    rates             = [1, 2]"), ExitProblems, "x.hcl:27:25: error: Both concurrency and rates"},
		{"nothing sent", bench("--rate", "1e-6", "--num-prompts", "2", "--max-duration", "200ms"), ExitProblems, "no request was sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runErr(tt.args...)
			got := fmt.Sprint(err) + "\n" + stdout + stderr
			if ExitCode(err) != tt.code || !strings.Contains(got, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", ExitCode(err), tt.code, tt.want, clipOutput(got))
			}
		})
	}
}

func clipOutput(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
