package cli

import (
	"context"
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/twin"
)

// liveTwin serves experiments/twin.hcl's plan on 127.0.0.1 at a time scale.
func liveTwin(t *testing.T, scale float64) (string, func()) {
	t.Helper()
	p, err := planFor(Env{Stdout: &discard{}, Stderr: &discard{}}, "", "../../../experiments", "twin", nil)
	if err != nil {
		t.Fatal(err)
	}
	run := twin.NewRunner(twin.ConfigFromPlan(p, twin.DefaultEfficiency), scale)
	srv := twin.NewServer(run, twin.ServerConfig{Model: p.Model.ServedName, Root: p.Model.Repo, VLLMVersion: "0.11.0"})
	ctx, cancel := context.WithCancel(context.Background())
	go run.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	return hs.URL, func() { hs.Close(); cancel() }
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// twinBenchConfig is forge bench --plan for the twin experiment, pointed at url.
func twinBenchConfig(t *testing.T, url string) bench.Config {
	t.Helper()
	out := t.TempDir()
	if _, _, code := run(t, "plan", "twin", "--experiments", "../../../experiments", "--out", out+"/plan.json"); code != ExitOK {
		t.Fatal("plan failed")
	}
	f := benchFlags{planPath: out + "/plan.json", baseURL: url, out: out + "/bench", runID: "t", timeout: time.Minute, scrapeInterval: 100 * time.Millisecond}
	cfg, err := benchConfig(context.Background(), f, map[string]bool{"base-url": true})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestTwinQueueing drives the twin at concurrency 1 and above max_num_seqs
// (8): requests wait (the waiting gauge rises above 0), TTFT rises, and the
// server's token counters equal the records' usage.
func TestTwinQueueing(t *testing.T) {
	url, stop := liveTwin(t, 20)
	defer stop()
	cfg := twinBenchConfig(t, url)
	cfg.Levels = []bench.Level{{Kind: "concurrency", Value: 1, Index: 0}, {Kind: "concurrency", Value: 16, Index: 1}}
	sums, err := bench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	one, many := sums[0], sums[1]
	if *many.TTFT.Median <= 2**one.TTFT.Median {
		t.Errorf("TTFT median at 16 (%v ms) not well above 1 (%v ms): no queueing", *many.TTFT.Median, *one.TTFT.Median)
	}
	waited := 0.0
	for _, v := range many.Server.Gauges["vllm:num_requests_waiting"] {
		waited = math.Max(waited, v)
	}
	if waited <= 0 {
		t.Errorf("waiting gauge never above 0 at concurrency 16: %v", many.Server.Gauges["vllm:num_requests_waiting"])
	}
	for _, s := range sums {
		if s.Failed != 0 {
			t.Fatalf("failures: %v", s.FailuresByReason)
		}
		if got := s.Server.Counters["vllm:generation_tokens_total"]; got != float64(s.TotalOutputTokens) {
			t.Errorf("level %v: generation counter %v, records %d", s.Level.Value, got, s.TotalOutputTokens)
		}
		if got := s.Server.Counters["vllm:prompt_tokens_total"]; got != float64(s.TotalInputTokens) {
			t.Errorf("level %v: prompt counter %v, records %d", s.Level.Value, got, s.TotalInputTokens)
		}
	}
}

// TestPredictMatchesLive: forge predict (pipeline.Predict, the code forge
// run uses for predicted/) and a live bench against the twin send the same
// request sequence and agree on output throughput and mean E2EL at every
// level of experiments/twin.hcl, and on median TPOT at every level where no
// request waits (concurrency at most max_num_seqs).
//
// Why not median TPOT above max_num_seqs: the prediction's client is
// instantaneous, the live one is not. When a busy host spreads the arrival
// of one wave of requests over more than a step, the scheduler splits the
// wave, late prefills interleave with early decodes, and the TPOT of every
// request changes by a discrete amount; the median of a level then flips
// between modes. It did in CI under -race at concurrency 16: median TPOT
// 17.76 live vs 14.86 predicted (+19.5 %) while output throughput agreed
// within 0.5 %, first at time scale 1 and again, with the same figures, at
// 0.5, so it is not a delay proportional to wall time. Real vLLM splits a
// wave the same way; the twin is faithful to it and the test is not about
// the host. Mean E2EL is stable under that reordering: in a closed loop of
// N clients, N = request rate × mean E2EL (Little's law), so it moves with
// throughput, not with the order of prefills.
//
// Bounds: both sides run the same step model, so in exact arithmetic they
// agree; the live side runs on the wall clock, where the runner makes up
// host scheduling slips of up to 20 ms per step (twin/runner.go). The
// largest gap seen under make test's load on the compared figures was 11 %
// (median TPOT at 16, no longer compared); 15 % stays well below the 2x
// that a wrong model (BF16 weights for AWQ) would show.
func TestPredictMatchesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the twin experiment live (about a minute)")
	}
	url, stop := liveTwin(t, 1)
	defer stop()
	cfg := twinBenchConfig(t, url)
	live, err := bench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := readPlan(cfg.Out + "/../plan.json")
	if err != nil {
		t.Fatal(err)
	}
	_, pred, err := pipeline.Predict(context.Background(), p, "p")
	if err != nil {
		t.Fatal(err)
	}
	type figure struct {
		name       string
		pred, live float64
	}
	for i, l := range p.Sweep.Levels {
		if a, b := pred[i].Provenance.RequestSequenceSHA256, live[i].Provenance.RequestSequenceSHA256; a == nil || b == nil || *a != *b {
			t.Errorf("level %v: predicted and measured request sequences differ (%v, %v)", l.Value, a, b)
		}
		figures := []figure{
			{"output throughput", pred[i].OutputThroughput, live[i].OutputThroughput},
			{"mean E2EL", *pred[i].E2EL.Mean, *live[i].E2EL.Mean},
		}
		if l.Value <= float64(p.Engine.MaxNumSeqs) {
			figures = append(figures, figure{"median TPOT", *pred[i].TPOT.Median, *live[i].TPOT.Median})
		}
		for _, c := range figures {
			t.Logf("level %v %s: predicted %.2f live %.2f", l.Value, c.name, c.pred, c.live)
			if math.Abs(c.pred-c.live) > 0.15*c.live {
				t.Errorf("level %v %s: predicted %.2f, live %.2f (more than 15%% apart)", l.Value, c.name, c.pred, c.live)
			}
		}
	}
}

// TestFindMaxOnTwin: forge bench --find-max against the live twin finds a
// concurrency that meets the twin experiment's SLO, a probe 25 % above it
// does not, every probe is a level on disk, and forge predict --find-max
// (virtual time) lands within one search step of it.
func TestFindMaxOnTwin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a live find-max search on the twin")
	}
	url, stop := liveTwin(t, 10)
	defer stop()
	// The twin experiment with a TTFT p99 SLO of 1 s: the edge is then the
	// step from 8 requests in flight (max_num_seqs, p99 about 0.6 s) to 9
	// (one request waits for a whole batch, about 1.5 s), not a few
	// milliseconds that the host's load can move.
	exps := copyTree(t, "../../../experiments")
	b, err := os.ReadFile(filepath.Join(exps, "twin.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	src = strings.Replace(src[:strings.Index(src, `experiment "twin_bf16"`)], `experiment "twin" {`, `experiment "twinslo" {`, 1)
	if err := os.WriteFile(filepath.Join(exps, "twinslo.hcl"), []byte(strings.Replace(src, "ttft_p99_ms = 2500", "ttft_p99_ms = 1000", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.json")
	if _, _, code := run(t, "plan", "twinslo", "--experiments", exps, "--out", planPath); code != ExitOK {
		t.Fatal("plan failed")
	}
	out := filepath.Join(dir, "bench")
	_, stderr, err := runErr("bench", "--plan", planPath, "--base-url", url, "--out", out, "--find-max", "--concurrency", "1,64", "--run-id", "fm")
	if err != nil {
		t.Fatalf("forge bench --find-max: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`the highest concurrency meeting the SLO is (\d+); (\d+) fails it`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no find-max result in the output:\n%s", stderr)
	}
	found, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("bench --find-max found concurrency %g", found)
	files, _ := filepath.Glob(filepath.Join(out, "*.summary.json"))
	met := map[float64]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s bench.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		met[s.Level.Value] = bench.MeetsSLO(s)
	}
	if len(files) < 3 || !met[found] {
		t.Fatalf("%d probe summaries on disk %v; the found concurrency %g must be one that met the SLO", len(files), met, found)
	}

	// A probe 25 % above the found load fails the SLO.
	f := benchFlags{planPath: planPath, baseURL: url, out: filepath.Join(dir, "above"), runID: "t", timeout: time.Minute, scrapeInterval: 100 * time.Millisecond}
	cfg, err := benchConfig(context.Background(), f, map[string]bool{"base-url": true})
	if err != nil {
		t.Fatal(err)
	}
	above := math.Ceil(1.25 * found)
	cfg.Levels = []bench.Level{{Kind: "concurrency", Value: above, Index: 0}}
	sums, err := bench.Run(context.Background(), cfg)
	if err != nil || len(sums) != 1 {
		t.Fatalf("probe at %g: %v", above, err)
	}
	if bench.MeetsSLO(sums[0]) {
		t.Errorf("concurrency %g, 25 %% above the found %g, meets the SLO (TTFT p99 %s ms)", above, found, bench.FormatMs(sums[0].TTFT.P99))
	}

	// forge predict --find-max: the same search in virtual time.
	stdout, _, code := run(t, "predict", "twinslo", "--experiments", exps, "--find-max", "--concurrency", "1,64")
	pm := regexp.MustCompile(`the highest concurrency meeting the SLO is (\d+);`).FindStringSubmatch(stdout)
	if code != ExitOK || pm == nil {
		t.Fatalf("forge predict --find-max: exit %d\n%s", code, stdout)
	}
	if pred, _ := strconv.ParseFloat(pm[1], 64); math.Abs(pred-found) > 1 {
		t.Errorf("predict --find-max found %g, bench --find-max %g: more than one search step (1) apart", pred, found)
	}
}

// TestPredictRun: forge predict NAME --results records the reference
// study's prediction as runs of their own, priced from predicted/ and
// reported with the baseline, every figure labelled predicted, and verify
// recomputes them byte for byte.
//
// The study's ShareGPT subset comes, pinned by sha256, from ../shared beside
// the repository (CI has it), into a fresh cache.
func TestPredictRun(t *testing.T) {
	seed, err := filepath.Abs("../../../../shared/datasets")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("FORGE_DATA_SEED", seed)
	t.Setenv("FORGE_DATA_CACHE", t.TempDir())
	res := t.TempDir()
	for _, args := range [][]string{
		{"predict", "llama31_8b_bf16_a5000", "--experiments", "../../../experiments", "--results", res},
		{"predict", "llama31_8b_awq_a5000", "--experiments", "../../../experiments", "--results", res, "--compare", filepath.Join(res, "llama31_8b_bf16_a5000.predicted")},
		{"verify", res},
	} {
		if _, stderr, code := run(t, args...); code != ExitOK {
			t.Fatalf("forge %v: exit %d\n%s", args, code, stderr)
		}
	}
	m, _ := filepath.Glob(filepath.Join(res, "llama31_8b_awq_a5000.predicted", "*", "report.md"))
	if len(m) != 1 {
		t.Fatalf("reports %v", m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.Contains(md, "(predicted by the twin in virtual time, not measured)") || strings.Contains(md, "| measured |") ||
		!strings.Contains(md, "- Simulated (twin): llama31_8b_awq_a5000") || !strings.Contains(md, "- Simulated (twin): llama31_8b_bf16_a5000") {
		t.Errorf("the predicted study's report does not say predicted everywhere:\n%s", md[:min(len(md), 3000)])
	}
	cb, err := os.ReadFile(filepath.Join(filepath.Dir(m[0]), "cost.json"))
	if err != nil || !strings.Contains(string(cb), `"throughput_source": "predicted"`) {
		t.Errorf("cost.json is not priced from the prediction (%v)", err)
	}
	// The ShareGPT prompts are measured (text.json) and every option is
	// priced per request and per character with them.
	if !strings.Contains(string(cb), `"currency": {`) || !strings.Contains(string(cb), `"tokenizer": "o200k_base"`) {
		t.Error("cost.json has no currency block with o200k_base rows")
	}
	if !strings.Contains(md, "$ per 1M characters") {
		t.Error("the report has no one-currency table")
	}
}
