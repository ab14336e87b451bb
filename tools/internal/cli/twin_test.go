package cli

import (
	"context"
	"math"
	"net/http/httptest"
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
// request sequence and agree on output throughput and median TPOT at every
// level of experiments/twin.hcl.
//
// Bounds: both sides run the same step model, so in exact arithmetic they
// agree; the live side runs on the wall clock, where the runner makes up
// host scheduling slips of up to 20 ms per step (twin/runner.go) but a busy
// 2-core CI machine still delays individual steps. The largest gap seen
// under make test's load was 11 % (median TPOT 14.86 vs 16.73 ms at
// concurrency 16, when the bound was 5 %); 15 % stays above it and well
// below the 2x that a wrong model (BF16 weights for AWQ) would show. Once,
// under -race in a clean-clone CI run, the gap at concurrency 16 was 19.5 %
// (17.76 vs 14.86 ms, throughput within 0.3 %): the host's delay is a time
// per step, so the live twin runs at half speed (time scale 0.5), where the
// same delay is half the share of a step, and its wall-clock figures are
// converted back to modelled time before the comparison.
func TestPredictMatchesLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the twin experiment at half speed (about two minutes)")
	}
	const scale = 0.5 // modelled seconds per wall second
	url, stop := liveTwin(t, scale)
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
	for i, l := range p.Sweep.Levels {
		if a, b := pred[i].Provenance.RequestSequenceSHA256, live[i].Provenance.RequestSequenceSHA256; a == nil || b == nil || *a != *b {
			t.Errorf("level %v: predicted and measured request sequences differ (%v, %v)", l.Value, a, b)
		}
		for _, c := range []struct {
			name       string
			pred, live float64
		}{{"output throughput", pred[i].OutputThroughput, live[i].OutputThroughput / scale}, {"median TPOT", *pred[i].TPOT.Median, *live[i].TPOT.Median * scale}} {
			t.Logf("level %v %s: predicted %.2f live %.2f", l.Value, c.name, c.pred, c.live)
			if math.Abs(c.pred-c.live) > 0.15*c.live {
				t.Errorf("level %v %s: predicted %.2f, live %.2f (more than 15%% apart)", l.Value, c.name, c.pred, c.live)
			}
		}
	}
}
