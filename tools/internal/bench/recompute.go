package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// EncodeSummary is a summary file's bytes, the one encoding every writer and
// forge verify use: two-space indent and a trailing newline.
func EncodeSummary(s Summary) ([]byte, error) {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// Resummarize recomputes a stored summary from its level's records. Every
// figure the records determine (counts, tokens, duration, throughputs,
// goodput, latency statistics, late sends) is recomputed; what records
// cannot tell (start and finish times, prompts offered, warmup, whether the
// level was cut short, the server's metrics, provenance) is carried over.
func Resummarize(stored Summary, records []Record) Summary {
	start, _ := time.Parse(time.RFC3339Nano, stored.StartedAt)
	end, _ := time.Parse(time.RFC3339Nano, stored.FinishedAt)
	lr := LevelRun{Level: stored.Level, Records: records, Start: start, End: end,
		NumPrompts: stored.NumPrompts, Warmup: stored.Warmup, Incomplete: stored.Incomplete}
	s := lr.Summarize(stored.RunID, stored.Experiment, stored.Goodput.SLO, stored.Provenance)
	s.Predicted, s.Source, s.API, s.TokenSource, s.Server = stored.Predicted, stored.Source, stored.API, stored.TokenSource, stored.Server
	return s
}

// microsecond is the rounding of every millisecond figure in a record;
// figures derived from rounded ones may differ from it by one unit.
const microsecond = 0.0011

// CheckRecord re-derives a completed record's latency fields from its chunk
// times and token counts (the definitions of Measure) and names each field
// that disagrees, as "field: message".
func CheckRecord(r Record) []string {
	var out []string
	bad := func(field, format string, args ...any) { out = append(out, field+": "+fmt.Sprintf(format, args...)) }
	if r.Chunks != len(r.ChunkTimesMs) {
		bad("chunks", "%d, but chunk_times_ms has %d entries", r.Chunks, len(r.ChunkTimesMs))
	}
	if r.DoneS < r.ActualSendS {
		bad("done_s", "%g is before actual_send_s %g", r.DoneS, r.ActualSendS)
	}
	if r.Status != "ok" || len(r.ChunkTimesMs) == 0 {
		return out
	}
	if len(r.ITLMs) != len(r.ChunkTimesMs)-1 {
		bad("itl_ms", "%d gaps for %d chunks", len(r.ITLMs), len(r.ChunkTimesMs))
	} else {
		for i, g := range r.ITLMs {
			if want := r.ChunkTimesMs[i+1] - r.ChunkTimesMs[i]; math.Abs(g-want) > microsecond {
				bad(fmt.Sprintf("itl_ms/%d", i), "%g, but chunk_times_ms gives %g", g, want)
			}
		}
	}
	if r.TTFTMs == nil || *r.TTFTMs != r.ChunkTimesMs[0] {
		bad("ttft_ms", "%s, but the first chunk came at %g ms", FormatMs(r.TTFTMs), r.ChunkTimesMs[0])
	}
	last := r.ChunkTimesMs[len(r.ChunkTimesMs)-1]
	if r.E2ELMs == nil || *r.E2ELMs < last {
		bad("e2el_ms", "%s, but the last chunk came at %g ms", FormatMs(r.E2ELMs), last)
	} else if e2el := r.DoneS - r.ActualSendS; *r.E2ELMs/1e3 > e2el+1e-6 {
		bad("e2el_ms", "%g ms is longer than done_s − actual_send_s = %g ms", *r.E2ELMs, e2el*1e3)
	}
	if r.OutputTokens > 1 && r.TTFTMs != nil && r.E2ELMs != nil {
		want := (*r.E2ELMs - *r.TTFTMs) / float64(r.OutputTokens-1)
		if r.TPOTMs == nil || math.Abs(*r.TPOTMs-want) > 2*microsecond {
			bad("tpot_ms", "%s, but (e2el_ms − ttft_ms) / (output_tokens − 1) = %g", FormatMs(r.TPOTMs), want)
		}
	}
	if r.TokensPerChunk != nil {
		if want := math.Round(float64(r.OutputTokens)/float64(len(r.ChunkTimesMs))*1000) / 1000; *r.TokensPerChunk != want {
			bad("tokens_per_chunk", "%g, but output_tokens / chunks = %g", *r.TokensPerChunk, want)
		}
	}
	return out
}
