package bench

import (
	"strings"
	"testing"
	"time"
)

// TestCheckRecord: a record Measure wrote passes; each hand edit is named.
func TestCheckRecord(t *testing.T) {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	tl := Timeline{Status: "ok", Usage: &Usage{PromptTokens: 10, CompletionTokens: 4},
		Content: []time.Duration{ms(100.0004), ms(120.0006), ms(145.0001), ms(160.0009)}, LastChoice: ms(161)}
	base := Measure(tl, 0, Counter{})
	base.ActualSendS, base.DoneS = 1, 1.2
	if got := CheckRecord(base); len(got) != 0 {
		t.Fatalf("a measured record fails its own check: %v", got)
	}
	for _, c := range []struct {
		name string
		edit func(*Record)
		want string
	}{
		{"ttft", func(r *Record) { *r.TTFTMs = 99 }, "ttft_ms: "},
		{"itl", func(r *Record) { r.ITLMs[1] = 30 }, "itl_ms/1: "},
		{"itl count", func(r *Record) { r.ITLMs = r.ITLMs[:2] }, "itl_ms: 2 gaps for 4 chunks"},
		{"tpot", func(r *Record) { *r.TPOTMs += 0.01 }, "tpot_ms: "},
		{"output tokens", func(r *Record) { r.OutputTokens = 5 }, "tpot_ms: "},
		{"e2el before last chunk", func(r *Record) { *r.E2ELMs = 150 }, "e2el_ms: "},
		{"e2el after done", func(r *Record) { r.DoneS = 1.1 }, "e2el_ms: "},
		{"done before send", func(r *Record) { r.DoneS = 0.5 }, "done_s: "},
		{"chunks", func(r *Record) { r.Chunks = 3 }, "chunks: 3"},
		{"tokens per chunk", func(r *Record) { *r.TokensPerChunk = 2 }, "tokens_per_chunk: "},
	} {
		r := base
		r.TTFTMs, r.TPOTMs, r.E2ELMs, r.TokensPerChunk = ptr(*base.TTFTMs), ptr(*base.TPOTMs), ptr(*base.E2ELMs), ptr(*base.TokensPerChunk)
		r.ITLMs = append([]float64(nil), base.ITLMs...)
		c.edit(&r)
		got := CheckRecord(r)
		if !containsPrefix(got, c.want) {
			t.Errorf("%s: %v, want one starting %q", c.name, got, c.want)
		}
	}
}

func containsPrefix(xs []string, p string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, p) {
			return true
		}
	}
	return false
}
