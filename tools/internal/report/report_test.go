package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/rundir"
	"github.com/forge-bench/forge/tools/internal/textcount"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func f(v float64) *float64 { return &v }

// entry builds a run of a vLLM experiment with two levels whose figures
// scale with speed, priced with the real cost model.
func ip(v int) *int { return &v }

func entry(t *testing.T, name string, quant bool, speed float64, tasks []eval.Task) Entry {
	t.Helper()
	p := &plan.Plan{Experiment: name, Hash: "sha256:" + strings.Repeat("ab", 32),
		Hardware: plan.Hardware{Name: "rtx_a5000", GPU: "NVIDIA RTX A5000", Count: 1,
			Price: plan.Price{Provider: "runpod", USDPerHour: 0.27, Source: "https://www.runpod.io/pricing", Observed: "2026-05-25"}},
		Model:  plan.Model{Repo: "org/" + name, Revision: strings.Repeat("0123456789", 4), Dtype: "bfloat16"},
		Engine: plan.Engine{Kind: "vllm", Version: "0.11.0"},
		Sweep:  plan.Sweep{PromptsPerLevel: 256, Warmup: 8, Levels: []plan.Level{{Index: 0, Kind: "concurrency", Value: 1}, {Index: 1, Kind: "concurrency", Value: 16}}},
		Workload: plan.Workload{Kind: "sharegpt", API: "completions", OutputTokens: ip(256), IgnoreEOS: true,
			Dataset: &plan.Dataset{Name: "sharegpt_v3_1k", SHA256: strings.Repeat("68", 32)}},
		SLO: &plan.SLO{TTFTP99Ms: f(500)},
		Cost: &plan.Cost{Utilization: []float64{1, 0.8}, Compare: []plan.API{
			{Name: "gpt_4o", Provider: "openai", Model: "gpt-4o-2024-08-06", USDPer1MInput: 2.5, USDPer1MOutput: 10, Source: "https://openai.com/api/pricing", Observed: "2026-05-25",
				Scores: []plan.Score{{Task: "mmlu", Percent: 88.7, Shots: 0, Metric: "acc", Format: "chat", Origin: "published", Source: "https://github.com/openai/simple-evals", Observed: "2026-12-03"}}}}}}
	if quant {
		p.Model.Quantization = &plan.Quantization{Method: "awq", Bits: 4}
		p.Eval = &plan.Eval{Baseline: "bf16"}
	}
	commit, ds := "9505cacb7c71", strings.Repeat("cd", 32)
	r := &rundir.Run{Dir: filepath.Join("results", name, "20260525T100000Z-"+name), Plan: p, State: rundir.State{State: rundir.Complete}}
	for i, c := range []float64{1, 16} {
		met := c == 1 || quant
		s := bench.Summary{RunID: "20260525T100000Z-" + name, Level: bench.Level{Kind: "concurrency", Value: c, Index: i}, Completed: 256,
			OutputThroughput: speed * 40 * c / (1 + c/8), TotalInputTokens: 256 * 200, TotalOutputTokens: 256 * 180,
			RequestThroughput: speed * c / 5, Goodput: bench.Goodput{SLOMet: &met},
			TTFT:       bench.Stats{P50: f(30 * c / speed), P90: f(40 * c / speed), P99: f(50 * c / speed), Mean: f(32 * c / speed)},
			TPOT:       bench.Stats{P50: f(25 / speed), P90: f(26 / speed), P99: f(30 / speed), Mean: f(25.5 / speed)},
			E2EL:       bench.Stats{Mean: f(4500 / speed)},
			Provenance: provenance.Record{ForgeCommit: commit, GPU: "NVIDIA RTX A5000", Engine: provenance.Engine{Name: "vllm", Version: "0.11.0"}, DatasetSHA256: &ds}}
		s.TotalTokenThroughput = s.OutputThroughput * 380 / 180
		r.Summaries = append(r.Summaries, s)
		r.SummaryFiles = append(r.SummaryFiles, "bench/"+bench.LevelName(s.Level)+".summary.json")
	}
	c, err := cost.Compute(p, r.Summaries, r.SummaryFiles, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Run: r, Cost: c}
	if tasks != nil {
		e.Evals, e.EvalFiles = []eval.Run{{Experiment: name, Tasks: tasks}}, []string{"eval/lm-eval.json"}
	}
	return e
}

func study(t *testing.T) *Study {
	base := []eval.Task{{Task: "gsm8k", Shots: 5, Metric: "exact_match", Filter: "strict-match", Score: 0.80, Stderr: f(0.011), N: 1319},
		{Task: "mmlu", Shots: 5, Metric: "acc", Filter: "none", Score: 0.68, Stderr: f(0.0038), N: 14042}}
	quant := []eval.Task{{Task: "gsm8k", Shots: 5, Metric: "exact_match", Filter: "strict-match", Score: 0.77, Stderr: f(0.0116), N: 1319},
		{Task: "mmlu", Shots: 5, Metric: "acc", Filter: "none", Score: 0.665, Stderr: f(0.0038), N: 14042}}
	return &Study{Entries: []Entry{entry(t, "awq", true, 1.6, quant), entry(t, "bf16", false, 1, base)}}
}

// TestMarkdownGolden: the whole report for a BF16/AWQ study with evals.
func TestMarkdownGolden(t *testing.T) {
	got := study(t).Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq"))
	path := filepath.Join("testdata", "golden", "report.md")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("report.md differs from %s (go test ./tools/internal/report -update to accept):\n%s", path, got)
	}
}

// TestAnswerFirst checks the report's promises independently of the golden:
// the answer comes first, every API appears with its break-even, the
// quality retention is stated, and numbers link to their files.
func TestAnswerFirst(t *testing.T) {
	md := string(study(t).Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	answer := strings.Index(md, "## The answer")
	if answer < 0 || answer > strings.Index(md, "## Throughput") {
		t.Fatal("the answer does not come before the tables")
	}
	for _, want := range []string{
		// one line for the workload both runs share, saying outputs are fixed
		"**Workload** (awq, bf16): ShareGPT: the first human turn of each conversation as the prompt (sharegpt_v3_1k, sha256 686868686868…); every output exactly 256 tokens (ignore_eos), not the dataset's reply lengths; 256 measured requests per level after 8 warmup, completions API.",
		// the conditional answer, from the level meeting the SLO (concurrency 16 for awq)
		"- awq · AWQ-INT4 on NVIDIA RTX A5000 ($0.27/h, runpod, price of 2026-05-25) costs $0.1041 per 1M tokens in and out at concurrency 16, the highest load meeting the SLO",
		"self-hosting is cheaper above 1.7 % utilization, i.e. above 32.6M tokens a month",
		"- Quality: awq · AWQ-INT4 keeps 96.2 % of bf16 · BF16's gsm8k (5-shot, exact_match, strict-match)",
		"](bench/00-concurrency-1.summary.json)",
		"](../../bf16/20260525T100000Z-bf16/cost.json)",
		"The highest level meeting its SLO is concurrency 1",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestChartSetPairsRetention(t *testing.T) {
	s := study(t).ChartSet()
	if len(s.Tasks) != 2 || s.Tasks[0].BaselineLabel != "bf16 · BF16" || s.Tasks[0].QuantLabel != "awq · AWQ-INT4" {
		t.Fatalf("tasks %+v", s.Tasks)
	}
	if len(s.Costs) != 2 || len(s.Costs[0].ByUtil) != 2 || s.Costs[0].ByUtil[0].Utilization != 1 || s.Costs[0].ByUtil[1].Utilization != 0.8 {
		t.Errorf("costs %+v", s.Costs)
	}
	if len(s.APIs) != 1 || len(s.Series) != 2 || !strings.Contains(s.Footer, "awq/20260525T100000Z-awq") {
		t.Errorf("apis %+v series %d footer %q", s.APIs, len(s.Series), s.Footer)
	}
	st := study(t)
	st.Entries[0].Evals = nil
	if s := st.ChartSet(); len(s.Tasks) != 0 || !strings.Contains(s.NoEvalReason, "forge eval") {
		t.Errorf("without evals: tasks %d, reason %q", len(s.Tasks), s.NoEvalReason)
	}
}

// TestBanner: a run that is not complete puts its banner, naming the
// state, the cause and each level not complete with its counts, under the
// report's title and into the chart set's title; a complete study has none.
func TestBanner(t *testing.T) {
	for _, c := range []struct {
		name  string
		state rundir.State
		want  []string
	}{
		{"complete", rundir.State{State: rundir.Complete}, nil},
		{"interrupted", rundir.State{State: rundir.Incomplete, Cause: "interrupted (Ctrl-C)", Levels: []rundir.Level{
			{Name: "00-concurrency-1", State: rundir.Complete, Completed: 256, Prompts: 256},
			{Name: "01-concurrency-16", State: rundir.Incomplete, Completed: 40, Failed: 1, Prompts: 256}}},
			[]string{"awq/20260525T100000Z-awq: INCOMPLETE RUN: interrupted (Ctrl-C); levels not complete: 01-concurrency-16 incomplete (40 of 256 requests ok, 1 failed)"}},
		{"engine died", rundir.State{State: rundir.Failed, Cause: "the engine died during the sweep: vllm exited (signal: killed)", Levels: []rundir.Level{
			{Name: "00-concurrency-1", State: rundir.Failed, Completed: 3, Failed: 9, Prompts: 256}}},
			[]string{"awq/20260525T100000Z-awq: FAILED RUN: the engine died during the sweep: vllm exited (signal: killed); levels not complete: 00-concurrency-1 failed (3 of 256 requests ok, 9 failed)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := study(t)
			st.Entries[0].Run.State = c.state
			md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
			title := st.ChartSet().Title
			if got := st.Banners(); !slices.Equal(got, c.want) {
				t.Errorf("banners %q, want %q", got, c.want)
			}
			for _, b := range c.want {
				if !strings.Contains(md, "> **"+b+"**") || strings.Index(md, b) > strings.Index(md, "## The answer") {
					t.Errorf("report.md lacks the banner %q before the answer", b)
				}
			}
			if got := strings.HasPrefix(title, "INCOMPLETE: "); got != (len(c.want) > 0) {
				t.Errorf("chart title %q: INCOMPLETE prefix %v, want %v", title, got, len(c.want) > 0)
			}
		})
	}
}

// TestRehearsalReport: a rehearsal's report says what it is before the
// answer, lists its CPU exceptions, gives no verdict, and its charts say
// rehearsal in their title.
func TestRehearsalReport(t *testing.T) {
	st := study(t)
	for i := range st.Entries {
		st.Entries[i].Run.Plan.Rehearsal = &plan.Rehearsal{Of: "study_" + st.Entries[i].Run.Plan.Experiment,
			Exceptions: []experiment.Exception{{Setting: "engine.dtype", Study: "auto", Rehearsal: "float32", Reason: "no bf16 on AVX2"}}}
	}
	md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	answer := strings.Index(md, "## The answer")
	for _, want := range []string{"> **Rehearsal, not the study.** awq · AWQ-INT4 is the CPU rehearsal of study_awq",
		"> - `engine.dtype`: auto in the study, float32 here (no bf16 on AVX2)", "- Rehearsal (a stand-in on a CPU, not a cost): awq · AWQ-INT4"} {
		if i := strings.Index(md, want); i < 0 || i < answer {
			t.Errorf("report lacks %q in the answer", want)
		}
	}
	if strings.Contains(md, "Self-hosting is cheaper") {
		t.Error("a rehearsal's report gives a verdict")
	}
	if title := st.ChartSet().Title; !strings.HasPrefix(title, "REHEARSAL") {
		t.Errorf("chart title %q does not say rehearsal", title)
	}
}

// TestAnswerNeverFromFailingLevels: the answer section's figures, bold or
// not, come only from levels that meet the SLO; a run with none says so and
// prices nothing there; a run served by the twin is labelled simulated in
// the answer and in every table, never measured.
func TestAnswerNeverFromFailingLevels(t *testing.T) {
	st := study(t)
	bf16 := &st.Entries[1]
	// bf16's peak (concurrency 16) fails the SLO: its price must not appear in the answer
	peak := usd(bf16.Cost.Headline.USDPer1MTotalTokens)
	md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	answer := md[:strings.Index(md, "## Throughput")]
	if strings.Contains(answer, peak) {
		t.Errorf("the answer quotes bf16's peak %s, a level that fails the SLO", peak)
	}
	for _, line := range strings.Split(answer, "\n") {
		for _, bold := range regexp.MustCompile(`\*\*([^*]+)\*\*`).FindAllStringSubmatch(line, -1) {
			if strings.Contains(bold[1], "$") && !strings.Contains(line, "concurrency 1 |") && !strings.Contains(line, "concurrency 16 |") {
				t.Errorf("bold figure %q outside the SLO table row: %s", bold[1], line)
			}
		}
	}

	// No level meets the SLO: no price in the answer at all.
	st = study(t)
	for i := range st.Entries {
		e := &st.Entries[i]
		for j := range e.Run.Summaries {
			met := false
			e.Run.Summaries[j].Goodput.SLOMet = &met
		}
		c, err := cost.Compute(e.Run.Plan, e.Run.Summaries, e.Run.SummaryFiles, "measured", nil)
		if err != nil {
			t.Fatal(err)
		}
		e.Cost = c
	}
	md = string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	answer = md[:strings.Index(md, "## Throughput")]
	if strings.Contains(answer, "**$") || strings.Contains(answer, "**[$") || !strings.Contains(answer, "no level met the SLO, so no self-hosted price holds under it") {
		t.Errorf("an answer with no level meeting the SLO prices one:\n%s", answer)
	}

	// A twin run: simulated in the answer, and no table row says measured.
	st = study(t)
	for i := range st.Entries {
		st.Entries[i].Run.Plan.Engine.Kind = "twin"
	}
	md = string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	if !strings.Contains(md, "- Simulated (twin): awq · AWQ-INT4") || strings.Contains(md, "| measured |") {
		t.Errorf("twin runs: answer not labelled simulated, or a row says measured")
	}
}

// TestStalePrices: a price observed more than 180 days before the run
// started says so, with its age, where the answer quotes it.
func TestStalePrices(t *testing.T) {
	for _, c := range []struct {
		started string
		want    string
	}{
		{"2026-12-03T10:00:00Z", "price of 2026-05-25, **stale**: 192 days before the run"},
		{"2026-06-01T10:00:00Z", ""},
	} {
		st := study(t)
		for i := range st.Entries {
			st.Entries[i].Run.State.StartedAt = c.started
		}
		md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
		if got := strings.Contains(md, "**stale**"); got != (c.want != "") || c.want != "" && !strings.Contains(md, c.want) {
			t.Errorf("run started %s: stale mark %v, want %q", c.started, got, c.want)
		}
	}
}

// TestOpsInAnswer: operations named in the cost block appear in the answer
// with their monthly cost and the break-even they give.
func TestOpsInAnswer(t *testing.T) {
	st := study(t)
	e := &st.Entries[0]
	e.Run.Plan.Cost.Ops = &plan.Ops{EngineerHoursPerMonth: 10, USDPerEngineerHour: 100, RedundantGPUs: 1, Source: "team estimate"}
	c, err := cost.Compute(e.Run.Plan, e.Run.Summaries, e.Run.SummaryFiles, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Cost = c
	md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	want := fmt.Sprintf("  - with operations ($1197 a month: engineers $1000, 1 spare GPU(s) $197, source: team estimate), %s per 1M tokens at the same load when busy all month: cheaper than gpt-4o-2024-08-06 above %.1f %% utilization",
		usd(*c.Ops.USDPer1MTotalTokens["1.0"]), 100**c.Ops.BreakEvenUtilization["gpt_4o"])
	if !strings.Contains(md, want) {
		t.Errorf("answer lacks %q", want)
	}
}

// TestCheaperButWeaker: the report says so exactly when the option that
// costs less also scores lower on a task both were scored on, in either
// direction, and never when the cheaper option is also the stronger one.
func TestCheaperButWeaker(t *testing.T) {
	for _, c := range []struct {
		name          string
		in, out, mmlu float64
		want          string // "" for no line
	}{
		{"self-host undercuts a stronger API", 2.5, 10, 88.7, "Cheaper but weaker: awq · AWQ-INT4 costs less than m (p) above"},
		{"self-host undercuts a weaker API", 2.5, 10, 50, ""},
		{"a cheaper API scores lower", 0.001, 0.001, 50, "Cheaper but weaker: m (p) costs less than awq · AWQ-INT4 at any volume this GPU serves, and scores lower on mmlu: 66.5 measured here (5-shot acc, completion) against 50.0 published (5-shot acc, chat, published); the settings differ, so the gap is indicative."},
		{"a cheaper API scores higher", 0.001, 0.001, 90, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := study(t)
			st.Entries = st.Entries[:1]
			e := &st.Entries[0]
			e.Run.Plan.Cost.Compare = []plan.API{{Name: "m", Provider: "p", Model: "m", USDPer1MInput: c.in, USDPer1MOutput: c.out, Source: "s", Observed: "2026-11-20",
				Scores: []plan.Score{{Task: "mmlu", Percent: c.mmlu, Shots: 5, Metric: "acc", Format: "chat", Origin: "published", Source: "s", Observed: "2026-11-20"}}}}
			cr, err := cost.Compute(e.Run.Plan, e.Run.Summaries, e.Run.SummaryFiles, "measured", nil)
			if err != nil {
				t.Fatal(err)
			}
			e.Cost = cr
			md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
			answer := md[:strings.Index(md, "## Throughput")]
			if got := strings.Contains(answer, "Cheaper but weaker"); got != (c.want != "") || !strings.Contains(answer, c.want) {
				t.Errorf("want %q in the answer, got:\n%s", c.want, answer)
			}
			if !strings.Contains(answer, "| m (p) |") || !strings.Contains(answer, fmt.Sprintf("%.1f: 5-shot acc, chat, published", c.mmlu)) {
				t.Errorf("no quality row for the API with its score:\n%s", answer)
			}
		})
	}
}

// TestExpectedVolume: the experiment's expected volume is priced in the
// answer each way. The runs' mix is 51,200 input and 46,080 output tokens,
// so GPT-4o blends to 2.5 × 0.5263 + 10 × 0.4737 = $6.0526 per 1M, and 50M
// tokens a month cost $302.63; self-hosting is one A5000 all month, 730 ×
// $0.27 = $197.10.
func TestExpectedVolume(t *testing.T) {
	st := study(t)
	e := &st.Entries[0]
	v := 50e6
	e.Run.Plan.Cost.ExpectedTokensPerMonth = &v
	c, err := cost.Compute(e.Run.Plan, e.Run.Summaries, e.Run.SummaryFiles, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Cost = c
	md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	answer := md[:strings.Index(md, "## Throughput")]
	for _, want := range []string{"  - at the expected 50.0M tokens a month: self-hosting $197.10 (1 replica(s) busy",
		"; against gpt-4o-2024-08-06 $302.63.", "| **50.0M (expected)** | 1 ("} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
}

// TestCurrencyTable: with a text record, the answer prices every option per
// request and per 1M characters, with each tokenizer and its estimate note.
func TestCurrencyTable(t *testing.T) {
	st := study(t)
	e := &st.Entries[0]
	e.Run.Plan.Cost.Compare[0].Tokenizer = "o200k_base"
	e.Cost.Currency = cost.Currencies(e.Cost, e.Run.Plan, e.Run.Summaries, &textcount.Record{Requests: 256, PromptChars: 204800,
		Tokenizers: []textcount.Tokenizer{{Name: "self", Tokens: 51200, Estimated: true}, {Name: "o200k_base", Tokens: 46080}}})
	if e.Cost.Currency == nil {
		t.Fatal("no currency")
	}
	md := string(st.Markdown(filepath.Join("results", "awq", "20260525T100000Z-awq")))
	answer := md[:strings.Index(md, "## Throughput")]
	for _, want := range []string{"| option | tokenizer | tokens per model token | $ per 1,000 requests | $ per 1M characters | note |",
		"| gpt-4o-2024-08-06 (openai) | o200k_base | 0.900 |", "the served model's tokens are the workload's estimate",
		"a request of this workload is 800 prompt characters, measured over 256 prompts"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
}
