package bench

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"testing"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// TestVLLMDefinitions runs recorded request timelines (send time, chunk
// arrival times relative to the send, usage) through Forge's Measure and
// Summarize, and compares with vLLM's definitions computed by hand below.
func TestVLLMDefinitions(t *testing.T) {
	var fixture []struct {
		SendMs           float64   `json:"send_ms"`
		ChunksMs         []float64 `json:"chunks_ms"`
		PromptTokens     int       `json:"prompt_tokens"`
		CompletionTokens int       `json:"completion_tokens"`
		Error            string    `json:"error"`
	}
	b, err := os.ReadFile("testdata/timelines.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fixture); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lr := LevelRun{Level: Level{Kind: "concurrency", Value: 4}, NumPrompts: len(fixture), Start: t0}
	for i, f := range fixture {
		tl := Timeline{Sent: t0.Add(msd(f.SendMs)), Usage: &Usage{f.PromptTokens, f.CompletionTokens}, Status: "ok", FinishReason: "length"}
		for _, c := range f.ChunksMs {
			tl.Content = append(tl.Content, msd(c))
		}
		tl.LastChoice = tl.Content[len(tl.Content)-1]
		if f.Error != "" {
			tl.Status, tl.Reason = "error", f.Error
		}
		r := Measure(tl, 0, Counter{})
		r.RequestIndex = i
		r.ActualSendS, r.DoneS = f.SendMs/1000, (f.SendMs+f.ChunksMs[len(f.ChunksMs)-1])/1000
		lr.Records = append(lr.Records, r)
		if end := tl.Sent.Add(tl.LastChoice); end.After(lr.End) {
			lr.End = end
		}
	}
	rev, sha := "0123456789abcdef0123456789abcdef01234567", "68bf784305d30824de71732c59e53ebb00780e4fd136b0382cd7dee7f08ea5d3"
	prov := provenance.Record{ForgeVersion: "test", ForgeCommit: "unknown", Engine: provenance.Engine{Name: "vllm", Version: "0.11.0"}, GPU: "NVIDIA RTX A5000",
		GPUSource: "declared", ModelRepo: "org/model", ModelRevision: &rev, ServedModel: "m", BaseURL: "http://127.0.0.1:8000", DatasetSHA256: &sha}
	s := lr.Summarize("r", "e", SLO{"ttft_ms": 150, "tpot_ms": 25}, prov)

	// vLLM, by hand, over the four completed requests:
	//   ttft  = first chunk:             120, 200, 90, 300
	//   e2el  = last chunk:              180, 230, 170, 300
	//   tpot  = (e2el-ttft)/(out-1):     60/3=20, 30/1=30, 80/4=20, (none: 1 token)
	//   itl   = gaps:                    20,25,15 | 30 | 10,10,10,50 | —
	//   duration = last completion − first send = max(0+180, 10+230, 30+170, 40+300) − 0 = 340 ms
	//   output tokens 4+2+5+1 = 12, input 50+20+35+10 = 115
	//   goodput: ttft ≤ 150 and tpot ≤ 25: requests 1 and 3 → 2 / 0.34 s
	want := map[string]float64{
		"duration_s":         0.340,
		"request_throughput": 4 / 0.340,
		"output_throughput":  12 / 0.340,
		"total_throughput":   127 / 0.340,
		"ttft_mean":          (120 + 200 + 90 + 300) / 4.0,
		"ttft_median":        (120 + 200) / 2.0,
		"ttft_p99":           200 + (300-200)*0.97, // rank 0.99·3 = 2.97 between 200 and 300
		"tpot_mean":          70 / 3.0,
		"tpot_median":        20,
		"itl_mean":           (20 + 25 + 15 + 30 + 10 + 10 + 10 + 50) / 8.0,
		"itl_p90":            30 + (50-30)*0.3, // sorted 10,10,10,15,20,25,30,50; rank 6.3
		"e2el_median":        (180 + 230) / 2.0,
		"e2el_std":           math.Sqrt(((180-220.0)*(180-220) + (230-220.0)*(230-220) + (170-220.0)*(170-220) + (300-220.0)*(300-220)) / 4),
		"goodput":            2 / 0.340,
	}
	got := map[string]float64{
		"duration_s": s.DurationS, "request_throughput": s.RequestThroughput, "output_throughput": s.OutputThroughput,
		"total_throughput": s.TotalTokenThroughput, "ttft_mean": *s.TTFT.Mean, "ttft_median": *s.TTFT.Median, "ttft_p99": *s.TTFT.P99,
		"tpot_mean": *s.TPOT.Mean, "tpot_median": *s.TPOT.Median, "itl_mean": *s.ITL.Mean, "itl_p90": *s.ITL.P90,
		"e2el_median": *s.E2EL.Median, "e2el_std": *s.E2EL.Std, "goodput": *s.Goodput.RequestRate,
	}
	for k, w := range want {
		if math.Abs(got[k]-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if s.Completed != 4 || s.Failed != 1 || s.FailuresByReason["error: HTTP 500"] != 1 || s.TotalOutputTokens != 12 || s.TotalInputTokens != 115 {
		t.Errorf("counts: %+v", s)
	}
	if s.Goodput.SLOMet == nil || *s.Goodput.SLOMet {
		t.Error("the level's TTFT p99 (297 ms) is above 150 ms: the SLO is not met")
	}
	golden(t, "testdata/summary.golden.json", s)
}

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares v, rendered as Forge writes summaries, with a golden file
// that is also a valid summary under its schema.
func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if findings, err := schemas.ValidateJSON(schemas.BenchSummary, got); err != nil || len(findings) > 0 {
		t.Errorf("golden summary is not schema-valid: %v %v", findings, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run go test ./tools/internal/bench -update and review the diff", path)
	}
}
