package cli

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
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

// TestPredictMatchesLive: forge predict and a live bench against the twin at
// time scale 1 agree within 5% on output throughput and median TPOT at every
// level of experiments/twin.hcl.
func TestPredictMatchesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the twin experiment in real time (about a minute)")
	}
	url, stop := liveTwin(t, 1)
	defer stop()
	cfg := twinBenchConfig(t, url)
	cfg.Warmup = nil
	live, err := bench.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := planFor(Env{Stdout: &discard{}, Stderr: &discard{}}, cfg.Out+"/../plan.json", "", "", nil)
	prompts, _, err := planPrompts(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	tc := twin.ConfigFromPlan(p, twin.DefaultEfficiency)
	for i, l := range p.Sweep.Levels {
		lvl := bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index}
		pred := twin.PredictLevel(tc, lvl, prompts, p.Sweep.Burstiness, 0, uint64(p.Workload.Seed)+uint64(l.Index)).Summarize("p", "twin", nil, bench.Provenance{})
		for _, c := range []struct {
			name       string
			pred, live float64
		}{{"output throughput", pred.OutputThroughput, live[i].OutputThroughput}, {"median TPOT", *pred.TPOT.Median, *live[i].TPOT.Median}} {
			t.Logf("level %v %s: predicted %.2f live %.2f", l.Value, c.name, c.pred, c.live)
			if math.Abs(c.pred-c.live) > 0.05*c.live {
				t.Errorf("level %v %s: predicted %.2f, live %.2f (more than 5%% apart)", l.Value, c.name, c.pred, c.live)
			}
		}
	}
}
