package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

const (
	vllmDetailed = "../vllmbench/testdata/vllm-bench-c2-detailed.json"
	vllmReduced  = "../vllmbench/testdata/vllm-bench-c2.json"
)

// runErr runs forge and returns its outputs and error, whose message main
// would print.
func runErr(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = Run(context.Background(), Env{Stdout: &out, Stderr: &errb}, args)
	return out.String(), errb.String(), err
}

func rawFixture(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(vllmDetailed)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// writeEdited writes the detailed fixture with edit applied into dir.
func writeEdited(t *testing.T, dir, name string, edit func(m map[string]any)) string {
	t.Helper()
	m := rawFixture(t)
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readSummary(t *testing.T, path string) bench.Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s bench.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImportVLLMBench(t *testing.T) {
	tmp := t.TempDir()
	garbled := filepath.Join(tmp, "garbled.json")
	if err := os.WriteFile(garbled, []byte(`{"date": "20261123-170841", "duration": `), 0o644); err != nil {
		t.Fatal(err)
	}
	noCompleted := writeEdited(t, tmp, "no-completed.json", func(m map[string]any) { delete(m, "completed") })
	c8 := writeEdited(t, tmp, "c8.json", func(m map[string]any) { m["max_concurrency"] = 8 })
	rate := writeEdited(t, tmp, "rate.json", func(m map[string]any) { m["request_rate"] = 1.5 })
	tests := []struct {
		name  string
		args  []string // --out DIR is added
		code  int
		msg   string   // in the error
		files []string // written under DIR
	}{
		{"detailed", []string{vllmDetailed}, ExitOK, "", []string{"00-concurrency-2.summary.json"}},
		{"levels indexed in sweep order", []string{rate, c8, vllmDetailed}, ExitOK, "",
			[]string{"00-concurrency-2.summary.json", "01-concurrency-8.summary.json", "02-rate-1.5.summary.json"}},
		{"malformed JSON", []string{vllmDetailed, garbled}, ExitProblems, garbled + ": not valid JSON", nil},
		{"missing field", []string{noCompleted}, ExitProblems, noCompleted + `: required field "completed" is missing`, nil},
		{"not detailed", []string{vllmReduced}, ExitProblems, vllmReduced + ": written without --save-detailed", nil},
		{"same level twice", []string{vllmDetailed, vllmDetailed}, ExitProblems, "are both level concurrency-2", nil},
		{"missing file", []string{filepath.Join(tmp, "nope.json")}, ExitProblems, "nope.json", nil},
		{"no files", nil, ExitUsage, "at least one result file", nil},
		{"bad zone", []string{vllmDetailed, "--tz", "Mars/Olympus"}, ExitUsage, "--tz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "vllm")
			stdout, stderr, err := runErr(append([]string{"import", "vllm-bench", "--out", out, "--tz", "UTC"}, tt.args...)...)
			if code := ExitCode(err); code != tt.code {
				t.Fatalf("exit %d, want %d: %v\n%s", code, tt.code, err, stderr)
			}
			if tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("error %v lacks %q", err, tt.msg)
			}
			var got []string
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				got = append(got, e.Name())
			}
			sort.Strings(got)
			if strings.Join(got, " ") != strings.Join(tt.files, " ") {
				t.Errorf("wrote %v, want %v", got, tt.files)
			}
			if len(tt.files) == 0 {
				return
			}
			if n := strings.Count(stdout, "\n"); n != len(tt.args) || !strings.Contains(stdout, vllmDetailed+" -> ") {
				t.Errorf("want one line per file:\n%s", stdout)
			}
			if _, stderr, code := run(t, "validate", out); code != ExitOK {
				t.Errorf("written summaries do not validate:\n%s", stderr)
			}
			for i, f := range tt.files {
				s := readSummary(t, filepath.Join(out, f))
				if s.Level.Index != i || s.Source != "vllm-bench" || s.Experiment != "vllm-bench" || s.RunID != "vllm-bench-20261123-170841" {
					t.Errorf("%s: level %+v source %q experiment %q run %q", f, s.Level, s.Source, s.Experiment, s.RunID)
				}
			}
		})
	}
}

// TestImportNumbers checks the written summary against the raw fixture:
// vLLM's aggregates verbatim, the rest recomputed here from the arrays.
func TestImportNumbers(t *testing.T) {
	m := rawFixture(t)
	out := t.TempDir()
	if _, _, err := runErr("import", "vllm-bench", vllmDetailed, "--out", out, "--experiment", "exp", "--run-id", "r7", "--tz", "UTC"); err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, filepath.Join(out, "00-concurrency-2.summary.json"))
	if s.RunID != "r7" || s.Experiment != "exp" || s.FinishedAt != "2026-11-23T17:08:41Z" {
		t.Errorf("run %q experiment %q finished %q", s.RunID, s.Experiment, s.FinishedAt)
	}
	ttfts, itls, errs := m["ttfts"].([]any), m["itls"].([]any), m["errors"].([]any)
	var ttft, itl []float64
	for i := range ttfts {
		if errs[i] != "" {
			continue
		}
		ttft = append(ttft, ttfts[i].(float64)*1000)
		for _, g := range itls[i].([]any) {
			itl = append(itl, g.(float64)*1000)
		}
	}
	sort.Float64s(ttft)
	sort.Float64s(itl)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"duration_s", s.DurationS, m["duration"].(float64)},
		{"output_throughput", s.OutputThroughput, m["output_throughput"].(float64)},
		{"ttft mean", *s.TTFT.Mean, m["mean_ttft_ms"].(float64)},
		{"ttft p99", *s.TTFT.P99, m["p99_ttft_ms"].(float64)},
		{"itl median", *s.ITL.Median, m["median_itl_ms"].(float64)},
		{"ttft count", float64(s.TTFT.Count), float64(len(ttft))},
		{"itl count", float64(s.ITL.Count), float64(len(itl))},
		{"ttft min", *s.TTFT.Min, ttft[0]},
		{"itl max", *s.ITL.Max, itl[len(itl)-1]},
	} {
		if math.Abs(c.got-c.want) > 1e-9*math.Abs(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestImportUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"import"}, ExitUsage, "import wants a format"},
		{[]string{"import", "genai-perf", "x.json", "--out", "d"}, ExitUsage, `unknown format "genai-perf"`},
		{[]string{"import", "vllm-bench", vllmDetailed}, ExitUsage, "--out DIR is required"},
		{[]string{"import", "vllm-bench", "--nope"}, ExitUsage, "flag provided but not defined"},
		{[]string{"import", "--help"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runErr(tt.args...)
			if ExitCode(err) != tt.code || tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("exit %d, error %v; want %d with %q", ExitCode(err), err, tt.code, tt.msg)
			}
		})
	}
}

// parityDirs imports the fixture as vLLM's side and, as Forge's, the same
// summary (source "forge") after edit.
func parityDirs(t *testing.T, edit func(s *bench.Summary)) (forgeDir, vllmDir string) {
	t.Helper()
	vllmDir, forgeDir = filepath.Join(t.TempDir(), "vllm"), t.TempDir()
	if _, _, err := runErr("import", "vllm-bench", vllmDetailed, "--out", vllmDir); err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, filepath.Join(vllmDir, "00-concurrency-2.summary.json"))
	s.Source = "forge"
	s.Level.Index = 1 // as in a Forge sweep 1,2,4: pairing ignores the index
	if edit != nil {
		edit(&s)
	}
	data, err := bench.EncodeSummary(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(forgeDir, bench.LevelName(s.Level)+".summary.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return forgeDir, vllmDir
}

func TestParity(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(s *bench.Summary)
		code    int
		flagged []string // metrics outside tolerance
	}{
		{"self", nil, ExitOK, nil},
		{"throughput 5% higher", func(s *bench.Summary) { s.RequestThroughput *= 1.05 }, ExitOK, nil},
		{"output throughput 20% higher", func(s *bench.Summary) { s.OutputThroughput *= 1.2 }, ExitProblems, []string{"output_throughput"}},
		{"ttft p99 doubled", func(s *bench.Summary) { v := *s.TTFT.P99 * 2; s.TTFT.P99 = &v }, ExitProblems, []string{"ttft_ms.p99"}},
		{"one token short", func(s *bench.Summary) { s.TotalOutputTokens-- }, ExitProblems, []string{"total_output_tokens"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forgeDir, vllmDir := parityDirs(t, tt.edit)
			md, js := filepath.Join(t.TempDir(), "parity.md"), filepath.Join(t.TempDir(), "parity.json")
			stdout, stderr, err := runErr("parity", forgeDir, vllmDir, "--out", md, "--json", js)
			if ExitCode(err) != tt.code {
				t.Fatalf("exit %d, want %d: %v\n%s", ExitCode(err), tt.code, err, stderr)
			}
			if !strings.HasPrefix(stdout, "| level | metric | vLLM | Forge | difference | within |\n") {
				t.Errorf("stdout:\n%s", stdout)
			}
			if b, _ := os.ReadFile(md); string(b) != stdout {
				t.Errorf("--out differs from stdout:\n%s", b)
			}
			var rows []vllmbench.Row
			b, _ := os.ReadFile(js)
			if err := json.Unmarshal(b, &rows); err != nil || len(rows) != len(vllmbench.MetricOrder()) {
				t.Fatalf("--json: %v, %d rows", err, len(rows))
			}
			var flagged []string
			for _, r := range rows {
				if r.Level != "concurrency-2" {
					t.Errorf("row level %q", r.Level)
				}
				if !r.Within {
					flagged = append(flagged, r.Metric)
					if !strings.Contains(stdout, "| "+r.Metric+" |") || !strings.Contains(stdout, "**no**") {
						t.Errorf("table does not flag %s:\n%s", r.Metric, stdout)
					}
				}
			}
			if strings.Join(flagged, " ") != strings.Join(tt.flagged, " ") {
				t.Errorf("flagged %v, want %v", flagged, tt.flagged)
			}
		})
	}
}

func TestParityErrors(t *testing.T) {
	forgeDir, vllmDir := parityDirs(t, nil)
	empty := t.TempDir()
	other := t.TempDir()
	if _, _, err := runErr("import", "vllm-bench", writeEdited(t, t.TempDir(), "c8.json", func(m map[string]any) { m["max_concurrency"] = 8 }), "--out", other); err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "00-concurrency-2.summary.json"), []byte(`{"schema": "forge.bench.summary/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"one dir", []string{forgeDir}, ExitUsage, "wants two directories"},
		{"swapped", []string{vllmDir, forgeDir}, ExitProblems, "swapped"},
		{"empty", []string{forgeDir, empty}, ExitProblems, "has no *.summary.json"},
		{"missing", []string{forgeDir, filepath.Join(empty, "nope")}, ExitProblems, "is not a directory"},
		{"invalid summary", []string{forgeDir, broken}, ExitProblems, "is not a valid forge.bench.summary/v1"},
		{"no common level", []string{forgeDir, other}, ExitProblems, "no load level is in both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, err := runErr(append([]string{"parity"}, tt.args...)...)
			if ExitCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("exit %d, error %v; want %d with %q\n%s", ExitCode(err), err, tt.code, tt.msg, stderr)
			}
		})
	}
	// Unpaired levels are reported, the common ones still compared.
	for _, e := range mustEntries(t, other) {
		b, _ := os.ReadFile(filepath.Join(other, e))
		if err := os.WriteFile(filepath.Join(vllmDir, e), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, err := runErr("parity", forgeDir, vllmDir)
	if err != nil || !strings.Contains(stderr, "level concurrency-8 (vLLM only): not compared") {
		t.Errorf("unpaired: %v\n%s", err, stderr)
	}
}

func mustEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
