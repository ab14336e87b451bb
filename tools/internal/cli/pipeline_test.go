package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/results"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// tinyExperiment is a two-level twin sweep small enough for a unit test.
const tinyExperiment = `experiment "tiny" {
  hardware = hardware.rtx_a5000
  model    = model.llama31_8b_instruct_awq
  engine "twin" {
    version       = "0.11.0"
    max_model_len = 512
    max_num_seqs  = 4
    port          = %d
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 64
    output_tokens = 8
    ignore_eos    = true
  }
  sweep {
    concurrency       = [1, 2]
    prompts_per_level = 6
    warmup            = 1
  }
  slo {
    ttft_p99_ms = 2000
  }
  cost {
    utilization = [1.0, 0.8]
    compare     = [api.gpt_4o, api.claude_sonnet]
  }
}
`

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestRunPipeline is the acceptance path of `make run` in small: forge run
// leaves plan, records, summaries, the prediction, cost.json, ten chart
// files and report.md, all schema-valid; verify passes; and changing one
// number in a record, a summary or the cost makes verify fail, naming the
// file and the field.
func TestRunPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a live twin sweep")
	}
	exps := copyTree(t, "../../../experiments")
	if err := os.WriteFile(filepath.Join(exps, "tiny.hcl"), []byte(fmt.Sprintf(tinyExperiment, freePort(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	stdout, stderr, code := run(t, "run", "tiny", "--experiments", exps, "--results", res, "--run-id", "20260101T000000Z-test", "--time-scale", "20")
	if code != ExitOK {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	dir := filepath.Join(res, "tiny", "20260101T000000Z-test")
	for _, f := range []string{"plan.json", "study.json", "cost.json", "report.md", "bench/00-concurrency-1.jsonl", "bench/01-concurrency-2.summary.json",
		"predicted/01-concurrency-2.jsonl", "charts/throughput.png", "charts/ttft.svg", "charts/tpot.png", "charts/cost.svg", "charts/quality.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	probs, err := results.ValidateTree(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Error(p.String())
	}
	report, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"## The answer", "gpt-4o", "utilization, i.e. above", "](bench/00-concurrency-1.summary.json)", "](cost.json)", "![throughput](charts/throughput.png)"} {
		if !strings.Contains(string(report), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if out, errOut, code := run(t, "verify", res); code != ExitOK || !strings.Contains(out, "byte-identical") {
		t.Fatalf("verify on a fresh run: exit %d\n%s%s", code, out, errOut)
	}

	for _, c := range []struct {
		file, from, to string
		want           *regexp.Regexp
	}{
		// the first record's TTFT: the record disagrees with its chunk times and the summary with its records
		{"bench/00-concurrency-1.jsonl", `"ttft_ms":`, `"ttft_ms":1`, regexp.MustCompile(`00-concurrency-1\.jsonl:\d+: ttft_ms: `)},
		{"bench/01-concurrency-2.summary.json", `"output_throughput": `, `"output_throughput": 1`, regexp.MustCompile(`01-concurrency-2\.summary\.json: /output_throughput: stored .* recomputed`)},
		{"cost.json", `"usd_per_hour": 0.27`, `"usd_per_hour": 0.28`, regexp.MustCompile(`cost\.json: /price/usd_per_hour: stored 0\.28, recomputed 0\.27`)},
		{"predicted/00-concurrency-1.jsonl", `"output_tokens":8`, `"output_tokens":9`, regexp.MustCompile(`predicted/00-concurrency-1\.summary\.json: /total_output_tokens: stored 48, recomputed 49`)},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(dir, c.file)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o644)
			changed := strings.Replace(string(orig), c.from, c.to, 1)
			if changed == string(orig) {
				t.Fatalf("%q not found in %s", c.from, c.file)
			}
			if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			_, errOut, code := run(t, "verify", res)
			if code != ExitProblems || !c.want.MatchString(errOut) {
				t.Errorf("verify after editing %s: exit %d, want 1 and a line matching %s; stderr:\n%s", c.file, code, c.want, errOut)
			}
		})
	}
	// make charts / make report: regenerate from results/ alone, same bytes
	before, _ := os.ReadFile(filepath.Join(dir, "charts", "cost.svg"))
	if out, errOut, code := run(t, "chart", "--results", res); code != ExitOK {
		t.Fatalf("chart regenerate: %d %s %s", code, out, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "charts", "cost.svg"))
	if string(before) != string(after) {
		t.Error("regenerated cost.svg differs from the one forge run drew")
	}
	if _, _, code := run(t, "report", "--results", res); code != ExitOK {
		t.Fatal("report regenerate failed")
	}
	again, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if string(again) != string(report) {
		t.Error("regenerated report.md differs")
	}
}

// TestRunSearch: forge run on an experiment whose sweep has a search block
// probes from the start (each probe a level in the state and on disk),
// says what it found, prices the found load as the goodput level, and
// forge verify recomputes every probe; --resume refuses a search.
func TestRunSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a live twin search")
	}
	exps := copyTree(t, "../../../experiments")
	search := strings.Replace(strings.Replace(fmt.Sprintf(tinyExperiment, freePort(t)), `experiment "tiny"`, `experiment "tinysearch"`, 1),
		"    concurrency       = [1, 2]\n", "    concurrency       = [1, 32]\n    search {}\n", 1)
	search = strings.Replace(search, "ttft_p99_ms = 2000", "ttft_p99_ms = 150", 1)
	if err := os.WriteFile(filepath.Join(exps, "tinysearch.hcl"), []byte(search), 0o644); err != nil {
		t.Fatal(err)
	}
	res := t.TempDir()
	_, stderr, code := run(t, "run", "tinysearch", "--experiments", exps, "--results", res, "--run-id", "s", "--time-scale", "10")
	if code != ExitOK {
		t.Fatalf("forge run: exit %d\n%s", code, stderr)
	}
	m := regexp.MustCompile(`find-max after (\d+) probe\(s\): the highest concurrency meeting the SLO is (\d+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no find-max result:\n%s", stderr)
	}
	dir := filepath.Join(res, "tinysearch", "s")
	st, err := rundir.Dir(dir).ReadState()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "bench", "*.summary.json"))
	if probes := fmt.Sprint(len(st.Levels)); probes != m[1] || len(files) != len(st.Levels) || len(st.Levels) < 3 {
		t.Errorf("%s probes said, %d levels in the state, %d summaries", m[1], len(st.Levels), len(files))
	}
	b, err := os.ReadFile(filepath.Join(dir, "cost.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Goodput struct {
			Level *struct{ Value float64 } `json:"level"`
		} `json:"goodput"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Goodput.Level == nil || fmt.Sprint(c.Goodput.Level.Value) != m[2] {
		t.Errorf("goodput level %+v (%v), want the found concurrency %s", c.Goodput.Level, err, m[2])
	}
	if _, stderr, code := run(t, "verify", res); code != ExitOK {
		t.Errorf("verify: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := run(t, "run", "tinysearch", "--experiments", exps, "--resume", dir); code == ExitOK || !strings.Contains(stderr, "does not resume") {
		t.Errorf("--resume of a search: exit %d\n%s", code, stderr)
	}
}
