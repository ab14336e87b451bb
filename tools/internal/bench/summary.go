package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/scrape"
)

// SLO holds per-request thresholds in milliseconds, keyed ttft_ms, tpot_ms,
// itl_ms, e2el_ms. The experiment's *_p99_ms values are used both per request
// (goodput) and on the level's p99 (slo_met).
type SLO map[string]float64

// Summary is one level's result (schema forge.bench.summary/v1).
type Summary struct {
	Schema               string            `json:"schema"`
	RunID                string            `json:"run_id"`
	Experiment           string            `json:"experiment"`
	Level                Level             `json:"level"`
	Predicted            bool              `json:"predicted"`
	Source               string            `json:"source"`
	API                  string            `json:"api,omitempty"`
	TokenSource          string            `json:"token_source,omitempty"`
	StartedAt            string            `json:"started_at"`
	FinishedAt           string            `json:"finished_at"`
	DurationS            float64           `json:"duration_s"`
	NumPrompts           int               `json:"num_prompts"`
	Completed            int               `json:"completed"`
	Failed               int               `json:"failed"`
	FailuresByReason     map[string]int    `json:"failures_by_reason"`
	Warmup               int               `json:"warmup"`
	LateSends            int               `json:"late_sends"`
	Incomplete           bool              `json:"incomplete"`
	RequestThroughput    float64           `json:"request_throughput"`
	OutputThroughput     float64           `json:"output_throughput"`
	TotalTokenThroughput float64           `json:"total_token_throughput"`
	TotalInputTokens     int               `json:"total_input_tokens"`
	TotalOutputTokens    int               `json:"total_output_tokens"`
	Goodput              Goodput           `json:"goodput"`
	TTFT                 Stats             `json:"ttft_ms"`
	TPOT                 Stats             `json:"tpot_ms"`
	ITL                  Stats             `json:"itl_ms"`
	E2EL                 Stats             `json:"e2el_ms"`
	Connect              *Stats            `json:"connect_ms,omitempty"` // connection setup of the requests that opened one (outside TTFT)
	Server               *scrape.View      `json:"server,omitempty"`
	Provenance           provenance.Record `json:"provenance"`
}

// Goodput is vLLM's goodput plus whether the level as a whole meets the SLO.
type Goodput struct {
	RequestRate *float64 `json:"request_rate"`
	SLO         SLO      `json:"slo"`
	SLOMet      *bool    `json:"slo_met"`
}

// LevelRun is what a level produced, before it is summarised.
type LevelRun struct {
	Level      Level
	Records    []Record  // held by producers that keep them (the twin, forge verify); a live level does not
	Tally      *Tally    // the records' summary values; nil: tallied from Records
	Start, End time.Time // first send, last completion
	NumPrompts int
	Warmup     int
	Incomplete bool
}

// Summarize applies the level definitions of docs/metrics.md (vLLM's):
// duration from the first send to the last completion; throughputs over it
// counting completed requests only; latency statistics over completed
// requests, ITL pooled over every gap of every completed request.
func (lr LevelRun) Summarize(runID, experiment string, slo SLO, prov provenance.Record) Summary {
	s := Summary{Schema: schemas.BenchSummary, RunID: runID, Experiment: experiment, Level: lr.Level, Source: "forge",
		StartedAt: lr.Start.UTC().Format(time.RFC3339Nano), FinishedAt: lr.End.UTC().Format(time.RFC3339Nano),
		NumPrompts: lr.NumPrompts, Warmup: lr.Warmup, Incomplete: lr.Incomplete,
		FailuresByReason: map[string]int{}, Provenance: prov, Goodput: Goodput{SLO: slo}}
	if s.Goodput.SLO == nil {
		s.Goodput.SLO = SLO{}
	}
	// A twin served at time scale k answers k times faster than modelled:
	// its latencies are checked against the SLO in modelled time, as they
	// are priced, or every scaled run would meet any SLO.
	scale := 1.0
	if k := prov.TimeScale; k != nil && *k > 0 {
		scale = *k
	}
	t := lr.Tally
	if t == nil {
		t = TallyOf(lr.Records)
	}
	s.DurationS = t.duration()
	s.LateSends, s.Completed, s.Failed = t.Late, t.Completed, t.Failed
	s.TotalInputTokens, s.TotalOutputTokens = t.InputTokens, t.OutputTokens
	for k, n := range t.Failures {
		s.FailuresByReason[k] = n
	}
	good := 0
	for _, q := range t.requests {
		if meets(q, slo, scale) {
			good++
		}
	}
	if s.DurationS > 0 {
		s.RequestThroughput = float64(s.Completed) / s.DurationS
		s.OutputThroughput = float64(s.TotalOutputTokens) / s.DurationS
		s.TotalTokenThroughput = float64(s.TotalInputTokens+s.TotalOutputTokens) / s.DurationS
	}
	s.TTFT = Summarize(t.latencies(func(q request) float64 { return q.ttft }))
	s.TPOT = Summarize(t.latencies(func(q request) float64 { return q.tpot }))
	s.E2EL = Summarize(t.latencies(func(q request) float64 { return q.e2el }))
	s.ITL = t.itlStats()
	if len(t.connect) > 0 {
		c := Summarize(t.connect)
		s.Connect = &c
	}
	if len(slo) > 0 {
		rate := 0.0
		if s.DurationS > 0 {
			rate = float64(good) / s.DurationS
		}
		s.Goodput.RequestRate = &rate
		met := s.Completed > 0
		for k, limit := range slo {
			if st := s.stats(k); st == nil || st.P99 == nil || *st.P99*scale > limit {
				met = false
			}
		}
		s.Goodput.SLOMet = &met
	}
	return s
}

func (s *Summary) stats(key string) *Stats {
	switch key {
	case "ttft_ms":
		return &s.TTFT
	case "tpot_ms":
		return &s.TPOT
	case "itl_ms":
		return &s.ITL
	case "e2el_ms":
		return &s.E2EL
	}
	return nil
}

// meets says whether one completed request meets every threshold, its
// latencies taken times scale (modelled time). TPOT is undefined for
// one-token outputs and then does not count against it; for ITL the
// request's own p99 gap is compared.
func meets(q request, slo SLO, scale float64) bool {
	for k, limit := range slo {
		v := math.NaN()
		switch k {
		case "ttft_ms":
			v = q.ttft
		case "tpot_ms":
			v = q.tpot
		case "e2el_ms":
			v = q.e2el
		case "itl_ms":
			v = q.itlP99
		}
		if !math.IsNaN(v) && v*scale > limit {
			return false
		}
	}
	return true
}

// failureClass groups failures by status and the head of the reason
// ("error: HTTP 429", "error: stream cut mid-way"), so that counts stay
// few even when messages carry details.
func failureClass(r Record) string {
	head, _, _ := strings.Cut(r.Error, ":")
	if head == "" {
		return r.Status
	}
	return r.Status + ": " + head
}

// Outcome is how many requests of a sweep completed and, when none did,
// why: nothing was sent (every level stopped before its first send), or
// every request failed. The two are different faults and say so.
func Outcome(sums []Summary) (completed int, verdict string) {
	failed := 0
	for _, s := range sums {
		completed, failed = completed+s.Completed, failed+s.Failed
	}
	switch {
	case len(sums) == 0 || completed > 0:
		return completed, ""
	case failed == 0:
		return 0, "no request was sent: every level stopped before its first send (is --max-duration shorter than the first arrival at this --rate?)"
	}
	return 0, "every request failed; see failures_by_reason"
}

// PrintTable writes one line per level: rates and median latencies.
func PrintTable(w io.Writer, sums []Summary) {
	fmt.Fprintf(w, "%-18s %10s %12s %12s %12s %12s\n", "level", "req/s", "output tok/s", "TTFT p50 ms", "TPOT p50 ms", "E2EL p50 ms")
	for _, s := range sums {
		fmt.Fprintf(w, "%-18s %10.2f %12.1f %12s %12s %12s\n", LevelName(s.Level), s.RequestThroughput, s.OutputThroughput, FormatMs(s.TTFT.P50), FormatMs(s.TPOT.P50), FormatMs(s.E2EL.P50))
	}
}
