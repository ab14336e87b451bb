package workload

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
)

// testdata/sharegpt_small.json, counted with the estimate (4 bytes a token):
// four conversations pass with their replies (one is multi-turn); two have no
// reply; the rest each break one rule: a 3-token prompt, a 3-token reply, a
// 1050-token prompt, 1000+1050 tokens, a system first turn, two human turns,
// no turns; and a 3-token prompt without reply.
const smallShareGPT = "testdata/sharegpt_small.json"

func TestShareGPTFilters(t *testing.T) {
	for _, c := range []struct {
		name        string
		output, n   int
		found       int
		wantSkipped map[string]int
	}{
		{"replies only", 0, 5, 4, map[string]int{SkipPromptShort: 1, SkipOutputShort: 1, SkipPromptLong: 1, SkipTotalLong: 1,
			SkipFirstNotHuman: 1, SkipSecondNotReply: 1, SkipNoConversation: 1, SkipNoReply: 3}},
		{"fixed output for the rest", 64, 7, 6, map[string]int{SkipPromptShort: 2, SkipOutputShort: 1, SkipPromptLong: 1, SkipTotalLong: 1,
			SkipFirstNotHuman: 1, SkipSecondNotReply: 1, SkipNoConversation: 1}},
		// vLLM skips the minimum-output check for an output length given by hand.
		{"fixed output under 4", 2, 7, 6, map[string]int{SkipPromptShort: 2, SkipOutputShort: 1, SkipPromptLong: 1, SkipTotalLong: 1,
			SkipFirstNotHuman: 1, SkipSecondNotReply: 1, SkipNoConversation: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := os.ReadFile(smallShareGPT)
			if err != nil {
				t.Fatal(err)
			}
			// Asking for one more than there are walks every entry.
			skipped := map[string]int{}
			spec := Spec{Kind: "sharegpt", Dataset: smallShareGPT, NumPrompts: c.n, OutputTokens: c.output}
			_, err = sampleShareGPT(spec, b, Estimate{}, skipped)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("only %d of 14 conversations", c.found)) {
				t.Fatalf("err = %v", err)
			}
			if !maps.Equal(skipped, c.wantSkipped) {
				t.Errorf("skipped = %v, want %v", skipped, c.wantSkipped)
			}
			spec.NumPrompts = c.found
			set, err := Generate(spec)
			if err != nil {
				t.Fatal(err)
			}
			refs := 0
			for i, r := range set.Requests {
				if r.Index != i || r.PromptTokens != len(Estimate{}.Encode(r.Prompt)) {
					t.Errorf("request %d: %+v", i, r)
				}
				switch r.OutputSource {
				case OutputReference:
					refs++
					if r.MaxTokens < minSeqTokens {
						t.Errorf("reference output %d < 4", r.MaxTokens)
					}
				case OutputFixed:
					if r.MaxTokens != c.output {
						t.Errorf("fixed output %d, want %d", r.MaxTokens, c.output)
					}
				default:
					t.Errorf("output source %q", r.OutputSource)
				}
			}
			if refs != 4 {
				t.Errorf("%d reference outputs, want 4", refs)
			}
		})
	}
}

// TestShareGPTCounts: with a tokenizer, lengths are vLLM's
// len(tokenizer(text).input_ids), the BOS included.
func TestShareGPTCounts(t *testing.T) {
	tok := mustLoad(t, "testdata/tiny_tokenizer.json")
	set, err := Generate(Spec{Kind: "sharegpt", Dataset: smallShareGPT, NumPrompts: 3, Tokenizer: "testdata/tiny_tokenizer.json"})
	if err != nil {
		t.Fatal(err)
	}
	if set.TokenSource != SourceTokenizer {
		t.Errorf("TokenSource = %q", set.TokenSource)
	}
	for _, r := range set.Requests {
		if r.PromptTokens != len(tok.Encode(r.Prompt))+1 {
			t.Errorf("prompt %q: %d tokens, want %d+1", r.Prompt, r.PromptTokens, len(tok.Encode(r.Prompt)))
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no replies, no output length", Spec{Kind: "sharegpt", Dataset: "testdata/sharegpt_noreply.json", NumPrompts: 1}, "no gpt replies"},
		{"too few", Spec{Kind: "sharegpt", Dataset: "testdata/sharegpt_noreply.json", NumPrompts: 3, OutputTokens: 10}, "only 2 of 2"},
		{"not ShareGPT", Spec{Kind: "sharegpt", Dataset: "testdata/prompts.jsonl", NumPrompts: 1}, "not a ShareGPT"},
		{"missing file", Spec{Kind: "sharegpt", Dataset: "testdata/none.json", NumPrompts: 1}, "none.json"},
		{"no dataset", Spec{Kind: "jsonl", NumPrompts: 1}, "needs a dataset"},
		{"unknown kind", Spec{Kind: "sonnet", NumPrompts: 1}, "unknown workload kind"},
		{"no prompts", Spec{Kind: "random", NumPrompts: 0, InputTokens: 8, OutputTokens: 8}, "NumPrompts"},
		{"negative output", Spec{Kind: "random", NumPrompts: 1, InputTokens: 8, OutputTokens: -1}, "negative"},
		{"random without input", Spec{Kind: "random", NumPrompts: 1, OutputTokens: 8}, "at least 1"},
		{"random without output", Spec{Kind: "random", NumPrompts: 1, InputTokens: 8}, "at least 1"},
		{"random with a dataset", Spec{Kind: "random", Dataset: smallShareGPT, NumPrompts: 1, InputTokens: 8, OutputTokens: 8}, "no dataset"},
		{"random: no room beside BOS", Spec{Kind: "random", NumPrompts: 1, InputTokens: 1, OutputTokens: 8, Tokenizer: "testdata/tiny_tokenizer.json"}, "special tokens"},
		{"bad tokenizer", Spec{Kind: "random", NumPrompts: 1, InputTokens: 8, OutputTokens: 8, Tokenizer: "testdata/prompts.jsonl"}, "tokenizer"},
		{"jsonl bad line", Spec{Kind: "jsonl", Dataset: "testdata/bad.jsonl", NumPrompts: 1, OutputTokens: 8}, "testdata/bad.jsonl:3:"},
		{"jsonl too few", Spec{Kind: "jsonl", Dataset: "testdata/prompts.jsonl", NumPrompts: 6, OutputTokens: 8}, "has 5 prompts, 6 requested"},
		{"jsonl no output length", Spec{Kind: "jsonl", Dataset: "testdata/prompts.jsonl", NumPrompts: 1}, "testdata/prompts.jsonl:4: no max_tokens"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate(c.spec)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	set, err := Generate(Spec{Kind: "jsonl", Dataset: "testdata/prompts.jsonl", NumPrompts: 5, OutputTokens: 32, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Request{ // by prompt: the order is the seed's
		"Explain the difference between TCP and UDP.":       {MaxTokens: 200, OutputSource: OutputReference},
		"Write a limerick about a cat.":                     {MaxTokens: 60, OutputSource: OutputReference},
		"What is the boiling point of water at sea level?":  {MaxTokens: 32, OutputSource: OutputFixed},
		"Name three sorting algorithms.":                    {MaxTokens: 80, OutputSource: OutputReference},
		"Summarize the French Revolution in one paragraph.": {MaxTokens: 32, OutputSource: OutputFixed},
	}
	for _, r := range set.Requests {
		w, ok := want[r.Prompt]
		if !ok || r.MaxTokens != w.MaxTokens || r.OutputSource != w.OutputSource || r.PromptTokens != (len(r.Prompt)+3)/4 {
			t.Errorf("request %+v, want %+v", r, w)
		}
		delete(want, r.Prompt)
	}
	if len(want) != 0 || len(set.Skipped) != 0 || set.DatasetSHA256 == "" {
		t.Errorf("left %v, skipped %v, dataset sha %q", want, set.Skipped, set.DatasetSHA256)
	}
}

func TestJSONLLines(t *testing.T) {
	for _, c := range []struct{ name, line, want string }{
		{"not JSON", `{"prompt": `, "x.jsonl:2:"},
		{"not an object", `["prompt"]`, "x.jsonl:2:"},
		{"null", `null`, "not a JSON object"},
		{"no prompt", `{"max_tokens": 5}`, `no "prompt"`},
		{"empty prompt", `{"prompt": ""}`, `no "prompt"`},
		{"prompt not a string", `{"prompt": 5}`, "x.jsonl:2:"},
		{"zero max_tokens", `{"prompt": "p", "max_tokens": 0}`, "at least 1"},
		{"fractional max_tokens", `{"prompt": "p", "max_tokens": 1.5}`, "x.jsonl:2:"},
		{"disagreeing lengths", `{"prompt": "p", "max_tokens": 5, "output_tokens": 6}`, "disagree"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseJSONL("x.jsonl", []byte("{\"prompt\": \"ok\"}\n"+c.line+"\n"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
	if _, err := parseJSONL("x.jsonl", []byte("\n  \r\n")); err == nil || !strings.Contains(err.Error(), "no prompts") {
		t.Errorf("blank file: %v", err)
	}
}

func TestRandom(t *testing.T) {
	for _, c := range []struct {
		name, tokenizer string
		input           int
	}{
		{"estimate", "", 100},
		{"estimate, prompt shorter than its prefix", "", 1},
		{"tiny tokenizer", "testdata/tiny_tokenizer.json", 20},
		{"llama3-shaped", "testdata/bpe_golden/llama3.json", 64},
		{"gpt2-shaped, 2 tokens", "testdata/bpe_golden/gpt2.json", 2},
		{"digits-shaped", "testdata/bpe_golden/digits.json", 300},
	} {
		t.Run(c.name, func(t *testing.T) {
			set, err := Generate(Spec{Kind: "random", NumPrompts: 12, Seed: 7, InputTokens: c.input, OutputTokens: 50, Tokenizer: c.tokenizer})
			if err != nil {
				t.Fatal(err)
			}
			tok, _, _ := loadTokenizer(c.tokenizer)
			firsts := map[string]bool{}
			for i, r := range set.Requests {
				if n := len(tok.Encode(r.Prompt)) + numSpecials(tok); n != c.input || r.PromptTokens != c.input {
					t.Errorf("prompt %d %.40q: %d tokens (says %d), want %d", i, r.Prompt, n, r.PromptTokens, c.input)
				}
				if r.MaxTokens != 50 || r.OutputSource != OutputRandom || r.Index != i {
					t.Errorf("prompt %d: %+v", i, r)
				}
				if c.input >= 8 && !strings.HasPrefix(r.Prompt, fmt.Sprintf("%d:", i)) {
					t.Errorf("prompt %d does not open with its index: %.20q", i, r.Prompt)
				}
				firsts[r.Prompt[:min(len(r.Prompt), 8)]] = true
			}
			if c.input >= 8 && len(firsts) != len(set.Requests) {
				t.Errorf("prompts share openings: %d distinct of %d", len(firsts), len(set.Requests))
			}
			if set.DatasetSHA256 != "" {
				t.Errorf("random has a dataset sha")
			}
		})
	}
}

// TestHash: the hash is of the canonical JSON Lines, the same for the same
// Spec and different for another seed.
func TestHash(t *testing.T) {
	for _, spec := range []Spec{
		{Kind: "random", NumPrompts: 8, InputTokens: 64, OutputTokens: 16},
		{Kind: "random", NumPrompts: 8, InputTokens: 64, OutputTokens: 16, Tokenizer: "testdata/bpe_golden/llama3.json"},
		{Kind: "sharegpt", Dataset: smallShareGPT, NumPrompts: 5, OutputTokens: 64},
		{Kind: "jsonl", Dataset: "testdata/prompts.jsonl", NumPrompts: 5, OutputTokens: 64},
	} {
		t.Run(spec.Kind+spec.Tokenizer, func(t *testing.T) {
			a, err := Generate(spec)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := Generate(spec)
			spec.Seed = 1
			c, _ := Generate(spec)
			if a.SHA256 != b.SHA256 || len(a.SHA256) != 64 {
				t.Errorf("same spec, hashes %s and %s", a.SHA256, b.SHA256)
			}
			if a.SHA256 == c.SHA256 {
				t.Errorf("seeds 0 and 1 give the same sequence")
			}
			var buf bytes.Buffer
			if err := WriteJSONL(&buf, a.Requests); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(buf.Bytes())
			if hex.EncodeToString(sum[:]) != a.SHA256 || bytes.Count(buf.Bytes(), []byte("\n")) != spec.NumPrompts {
				t.Errorf("SHA256 is not the hash of WriteJSONL's %d lines", spec.NumPrompts)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte(`{"index":0,"prompt":`)) {
				t.Errorf("canonical line: %.60s", buf.String())
			}
		})
	}
}

// TestRNGPinned pins the draws: a change here changes every workload's hash.
func TestRNGPinned(t *testing.T) {
	got := newRNG(42, streamShuffle).perm(10)
	want := fmt.Sprint([]int{3, 8, 5, 9, 2, 4, 0, 6, 1, 7})
	if fmt.Sprint(got) != want {
		t.Errorf("perm(10) with seed 42 = %v, want %s", got, want)
	}
}

// The real ShareGPT subset (first turns only), when the workplace has it.
const realShareGPT = "/work/shared/datasets/sharegpt/ShareGPT_V3_filtered_1000.json"

func TestRealShareGPT(t *testing.T) {
	if _, err := os.Stat(realShareGPT); err != nil {
		t.Skip("no", realShareGPT)
	}
	spec := Spec{Kind: "sharegpt", Dataset: realShareGPT, NumPrompts: 256, OutputTokens: 128}
	set, err := Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Requests) != 256 || set.TokenSource != SourceEstimate {
		t.Fatalf("%d requests, source %s", len(set.Requests), set.TokenSource)
	}
	for _, r := range set.Requests {
		if r.MaxTokens != 128 || r.OutputSource != OutputFixed || r.PromptTokens < 4 || r.PromptTokens > 1024 {
			t.Errorf("request %d: %d prompt tokens, %d %s", r.Index, r.PromptTokens, r.MaxTokens, r.OutputSource)
		}
	}
	if set.DatasetSHA256 != "68bf784305d30824de71732c59e53ebb00780e4fd136b0382cd7dee7f08ea5d3" { // MANIFEST.md
		t.Errorf("dataset sha256 %s", set.DatasetSHA256)
	}
	again, _ := Generate(spec)
	if again.SHA256 != set.SHA256 {
		t.Errorf("hash moved between runs: %s, %s", set.SHA256, again.SHA256)
	}
	const pinned = "f28da27763583dbfe7dcfbc0d418352551cb5d53f7c7aec4deed60bb859eeb3f"
	if set.SHA256 != pinned {
		t.Errorf("sequence sha256 %s, pinned %s (skipped %v)", set.SHA256, pinned, set.Skipped)
	}
}
