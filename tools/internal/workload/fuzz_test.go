package workload

import (
	"os"
	"strings"
	"testing"
)

// The parsers read files people hand in; whatever they hold, the answer is a
// sequence or an error, never a panic.

func FuzzJSONL(f *testing.F) {
	for _, p := range []string{"testdata/prompts.jsonl", "testdata/bad.jsonl"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"prompt": "x", "max_tokens": -1}`))
	f.Add([]byte("null\n[]\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseJSONL("f.jsonl", b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.prompt == "" || e.maxTokens < 0 || e.line < 1 {
				t.Fatalf("bad entry accepted: %+v", e)
			}
		}
		spec := Spec{Kind: "jsonl", Dataset: "f.jsonl", NumPrompts: 2, OutputTokens: 3}
		if reqs, err := sampleJSONL(spec, b, Estimate{}); err == nil && len(reqs) != 2 {
			t.Fatalf("%d requests, want 2", len(reqs))
		}
	})
}

func FuzzShareGPT(f *testing.F) {
	for _, p := range []string{smallShareGPT, "testdata/sharegpt_noreply.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 2, 0)
	}
	f.Add([]byte(`[{"conversations": null}, null, {"conversations": [{"from": "human"}]}]`), 1, 16)
	f.Add([]byte(`{"conversations": []}`), 1, 0)
	tok := mustLoad(f, "testdata/tiny_tokenizer.json")
	f.Fuzz(func(t *testing.T, b []byte, n, output int) {
		spec := Spec{Kind: "sharegpt", Dataset: "f.json", NumPrompts: 1 + abs(n)%4, OutputTokens: abs(output) % 3000}
		for _, tk := range []Tokenizer{Estimate{}, tok} {
			skipped := map[string]int{}
			reqs, err := sampleShareGPT(spec, b, tk, skipped)
			if err != nil {
				continue
			}
			if len(reqs) != spec.NumPrompts {
				t.Fatalf("%d requests, want %d", len(reqs), spec.NumPrompts)
			}
			for _, r := range reqs {
				if r.PromptTokens < minSeqTokens || r.PromptTokens > maxPromptTokens || r.PromptTokens+r.MaxTokens > maxTotalTokens {
					t.Fatalf("request past vLLM's filters: %+v", r)
				}
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1) // no overflow at math.MinInt
	}
	return n
}

// FuzzBPERoundTrip: a byte-level BPE loses nothing, so decoding the encoding
// gives the text back (invalid UTF-8 read as U+FFFD).
func FuzzBPERoundTrip(f *testing.F) {
	for _, c := range readGolden(f, "gpt2") {
		f.Add(c.Text)
	}
	f.Add("\xff\xfe<|endoftext|>\xe2\x82")
	tok := mustLoad(f, "testdata/bpe_golden/gpt2.json")
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToValidUTF8(s, "\uFFFD")
		if got := tok.Decode(tok.Encode(s)); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
		if n := len(Estimate{}.Encode(s)); n != (len(s)+3)/4 {
			t.Fatalf("estimate %d for %d bytes", n, len(s))
		}
	})
}
