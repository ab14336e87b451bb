package vllmbench

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/scrape"
)

// imported is the detailed fixture as a summary.
func imported(t *testing.T) bench.Summary {
	t.Helper()
	b, err := os.ReadFile(detailedFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ToSummary(mustParse(t, detailedFile, b), Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompareSelf(t *testing.T) {
	s := imported(t)
	rows := Compare(s, s, DefaultTolerances())
	if len(rows) != len(MetricOrder()) {
		t.Fatalf("%d rows, want %d", len(rows), len(MetricOrder()))
	}
	for i, r := range rows {
		if r.Metric != MetricOrder()[i] || r.Level != "concurrency-2" {
			t.Errorf("row %d is %s %s", i, r.Level, r.Metric)
		}
		if !r.Within || r.DiffPct != 0 || r.Note != "" || r.Forge != r.VLLM || math.IsNaN(r.Forge) {
			t.Errorf("self-comparison row %+v", r)
		}
	}
}

func TestCompareFlags(t *testing.T) {
	base := imported(t)
	scaled := func(p *float64, f float64) *float64 { v := *p * f; return &v }
	tol := DefaultTolerances()
	tests := []struct {
		name   string
		metric string
		tweak  func(s *bench.Summary)
		forge  func(s bench.Summary) float64 // Forge's value after the tweak
		within bool
		note   string
	}{
		{"throughput +9%", "output_throughput", func(s *bench.Summary) { s.OutputThroughput *= 1.09 }, func(s bench.Summary) float64 { return s.OutputThroughput }, true, ""},
		{"throughput +11%", "output_throughput", func(s *bench.Summary) { s.OutputThroughput *= 1.11 }, func(s bench.Summary) float64 { return s.OutputThroughput }, false, ""},
		{"ttft mean -14%", "ttft_ms.mean", func(s *bench.Summary) { s.TTFT.Mean = scaled(s.TTFT.Mean, 0.86) }, func(s bench.Summary) float64 { return *s.TTFT.Mean }, true, ""},
		{"ttft mean -16%", "ttft_ms.mean", func(s *bench.Summary) { s.TTFT.Mean = scaled(s.TTFT.Mean, 0.84) }, func(s bench.Summary) float64 { return *s.TTFT.Mean }, false, ""},
		{"itl p50 +16%", "itl_ms.p50", func(s *bench.Summary) { s.ITL.P50 = scaled(s.ITL.P50, 1.16) }, func(s bench.Summary) float64 { return *s.ITL.P50 }, false, ""},
		{"e2el p99 +29%", "e2el_ms.p99", func(s *bench.Summary) { s.E2EL.P99 = scaled(s.E2EL.P99, 1.29) }, func(s bench.Summary) float64 { return *s.E2EL.P99 }, true, ""},
		{"e2el p99 +31%", "e2el_ms.p99", func(s *bench.Summary) { s.E2EL.P99 = scaled(s.E2EL.P99, 1.31) }, func(s bench.Summary) float64 { return *s.E2EL.P99 }, false, ""},
		{"one output token more", "total_output_tokens", func(s *bench.Summary) { s.TotalOutputTokens++ }, func(s bench.Summary) float64 { return float64(s.TotalOutputTokens) }, false, ""},
		{"one request fewer", "completed", func(s *bench.Summary) { s.Completed-- }, func(s bench.Summary) float64 { return float64(s.Completed) }, false, ""},
		{"tpot missing in Forge", "tpot_ms.p99", func(s *bench.Summary) { s.TPOT.P99 = nil }, func(bench.Summary) float64 { return math.NaN() }, false, "missing in Forge"},
		{"p50 falls back to median", "ttft_ms.p50", func(s *bench.Summary) { s.TTFT.P50 = nil }, func(s bench.Summary) float64 { return *s.TTFT.Median }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forge := imported(t)
			tt.tweak(&forge)
			rows := Compare(forge, base, tol)
			flagged := 0
			for _, r := range rows {
				if !r.Within {
					flagged++
				}
				if r.Metric != tt.metric {
					continue
				}
				want := tt.forge(forge)
				if !(r.Forge == want || math.IsNaN(want) && math.IsNaN(r.Forge)) {
					t.Errorf("forge value %v, want %v", r.Forge, want)
				}
				if !math.IsNaN(want) {
					if d := (want - r.VLLM) / r.VLLM * 100; math.Abs(r.DiffPct-d) > 1e-9 {
						t.Errorf("diff %v%%, want %v%%", r.DiffPct, d)
					}
				}
				if r.Within != tt.within || r.Note != tt.note {
					t.Errorf("row %+v: within %v note %q, want %v %q", r, r.Within, r.Note, tt.within, tt.note)
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tt.within]; flagged != want {
				t.Errorf("%d rows flagged, want %d", flagged, want)
			}
		})
	}
}

func TestCompareSets(t *testing.T) {
	at := func(kind string, v float64, idx int) bench.Summary {
		s := imported(t)
		s.Level = bench.Level{Kind: kind, Value: v, Index: idx}
		return s
	}
	forge := []bench.Summary{at("rate", 4, 3), at("concurrency", 16, 2), at("concurrency", 2, 1), at("concurrency", 1, 0)}
	vllm := []bench.Summary{at("concurrency", 2, 0), at("rate", 4, 1), at("concurrency", 16, 2), at("concurrency", 32, 3)}
	rows, unpaired, err := CompareSets(forge, vllm, DefaultTolerances())
	if err != nil {
		t.Fatal(err)
	}
	var levels []string
	for i, r := range rows {
		if i%len(MetricOrder()) == 0 {
			levels = append(levels, r.Level)
		}
		if r.Metric != MetricOrder()[i%len(MetricOrder())] || !r.Within {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	if strings.Join(levels, " ") != "concurrency-2 concurrency-16 rate-4" {
		t.Errorf("levels %v: pairs by kind and value, ignoring the index, in level order", levels)
	}
	if strings.Join(unpaired, ", ") != "concurrency-1 (Forge only), concurrency-32 (vLLM only)" {
		t.Errorf("unpaired = %v", unpaired)
	}
	if _, _, err := CompareSets(forge, append(vllm, at("concurrency", 2, 9)), DefaultTolerances()); err == nil || !strings.Contains(err.Error(), "two summaries of level concurrency-2") {
		t.Errorf("duplicate level: %v", err)
	}
	// Mismatched levels passed to Compare directly are never within.
	for _, r := range Compare(at("concurrency", 2, 0), at("concurrency", 4, 0), DefaultTolerances()) {
		if r.Within || r.Note != "different load levels" {
			t.Fatalf("mismatched levels: %+v", r)
		}
	}
}

func TestMarkdownAndJSON(t *testing.T) {
	base := imported(t)
	forge := imported(t)
	forge.RequestThroughput *= 1.2
	forge.TTFT.P99 = nil
	forge.ITL.Mean = new(float64) // 0 against vLLM's non-zero
	rows := Compare(forge, base, DefaultTolerances())
	md := string(Markdown(rows))
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if lines[0] != "| level | metric | vLLM | Forge | difference | within |" || len(lines) != 2+len(rows) {
		t.Fatalf("table:\n%s", md)
	}
	for _, want := range []string{
		"| concurrency-2 | request_throughput | 1.719 | 2.063 | +20.00% | **no** (±10%) |",
		"| concurrency-2 | ttft_ms.p99 | 493.153 | — | — | **no** (±30%): missing in Forge |",
		"| concurrency-2 | itl_ms.mean | 31.557 | 0.000 | -100.00% | **no** (±15%) |",
		"| concurrency-2 | total_input_tokens | 1401 | 1401 | +0.00% | yes (±0%) |",
	} {
		if !strings.Contains(md, want+"\n") {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	data, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`{"level":"concurrency-2","metric":"ttft_ms.p99","forge":null,"vllm":493.1532737803354,"diff_pct":null,"tolerance_pct":30,"within":false,"note":"missing in Forge"}`)) {
		t.Errorf("JSON: %s", data)
	}
	var back []Row
	if err := json.Unmarshal(data, &back); err != nil || len(back) != len(rows) || !math.IsNaN(back[3+2].Forge) || back[0] != rows[0] {
		t.Errorf("round trip: %v %+v", err, back)
	}
	// vLLM 0, Forge not: infinite difference, encoded as null.
	z := imported(t)
	z.TotalTokenThroughput = 0
	r := Compare(base, z, DefaultTolerances())[2]
	if !math.IsInf(r.DiffPct, 1) || r.Within || r.Note != "vLLM's value is 0" {
		t.Errorf("vLLM zero: %+v", r)
	}
	if b, _ := json.Marshal(r); !bytes.Contains(b, []byte(`"diff_pct":null`)) {
		t.Errorf("infinite difference encodes as %s", b)
	}
	if !strings.Contains(string(Markdown([]Row{r})), "| n/a |") {
		t.Errorf("markdown: %s", Markdown([]Row{r}))
	}
}

// TestServerRows: with the server's scraped histograms on both sides, the
// table adds the server's own mean over each client's requests (context)
// and each client's overhead above it, compared in absolute milliseconds,
// so a server that ran slower during one client's run is not read as a
// difference between the clients.
func TestServerRows(t *testing.T) {
	withServer := func(s bench.Summary, itlSum, itlCount, ttftSum, ttftCount float64) bench.Summary {
		s.Server = &scrape.View{Counters: map[string]float64{
			"vllm:inter_token_latency_seconds_sum": itlSum, "vllm:inter_token_latency_seconds_count": itlCount,
			"vllm:time_to_first_token_seconds_sum": ttftSum, "vllm:time_to_first_token_seconds_count": ttftCount}}
		return s
	}
	base := imported(t)
	slowServer := base
	// vLLM's side: the server itself 20% slower, the client's own overhead unchanged.
	for _, c := range []struct {
		name             string
		forge, vllm      bench.Summary
		wantITLOverheadF float64
		wantWithin       bool
	}{
		{"same server speed", withServer(base, 0.030*100, 100, 0.1*8, 8), withServer(slowServer, 0.030*100, 100, 0.1*8, 8), *base.ITL.Mean - 30, true},
		{"client adds 6 ms more than the other", withServer(base, (*base.ITL.Mean-6)/1000*100, 100, 0.1*8, 8), withServer(slowServer, *base.ITL.Mean/1000*100, 100, 0.1*8, 8), 6, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := Compare(c.forge, c.vllm, DefaultTolerances())
			var server, overhead *Row
			for i := range rows {
				switch rows[i].Metric {
				case "server: itl_ms.mean":
					server = &rows[i]
				case "itl_ms.mean − server":
					overhead = &rows[i]
				}
			}
			if server == nil || overhead == nil {
				t.Fatalf("no server rows in %d rows", len(rows))
			}
			if !math.IsNaN(server.TolPct) || !server.Within {
				t.Errorf("server row is context only, got tolerance %v within %v", server.TolPct, server.Within)
			}
			if math.Abs(overhead.Forge-c.wantITLOverheadF) > 1e-9 {
				t.Errorf("Forge's overhead = %v ms, want %v", overhead.Forge, c.wantITLOverheadF)
			}
			if overhead.Unit != "ms" || overhead.Within != c.wantWithin {
				t.Errorf("overhead row %+v, want unit ms and within %v", *overhead, c.wantWithin)
			}
			if md := string(Markdown(rows)); !strings.Contains(md, "| itl_ms.mean − server |") || !strings.Contains(md, " ms)") {
				t.Errorf("markdown lacks the overhead row in ms:\n%s", md)
			}
			if _, err := json.Marshal(rows); err != nil {
				t.Errorf("rows with a context-only (NaN tolerance) row do not encode: %v", err)
			}
		})
	}
	if rows := Compare(base, base, DefaultTolerances()); len(rows) != len(MetricOrder()) {
		t.Errorf("without server metrics: %d rows, want %d", len(rows), len(MetricOrder()))
	}
}
