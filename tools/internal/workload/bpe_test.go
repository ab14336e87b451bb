package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustLoad(t testing.TB, path string) *BPE {
	t.Helper()
	b, err := LoadBPE(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testdata/tiny_tokenizer.json: the 256 byte symbols in GPT-2's order (so "a"
// is 97-33 = 64 and "Ġ", the space, is 220) plus seven hand-written merges,
// ranked: h e → he (256), l l → ll (257), Ġ t → Ġt (258), he ll → hell (259),
// Ġt he → Ġthe (260), hell o → hello (261), e l → el (262); added tokens
// <|begin|> (263, the BOS its TemplateProcessing adds) and <|end|> (264).
// The expected ids are worked out by hand from those ranks (and agree with
// HuggingFace tokenizers 0.23).
func TestTinyTokenizer(t *testing.T) {
	tok := mustLoad(t, "testdata/tiny_tokenizer.json")
	for _, c := range []struct {
		name, text string
		want       []int
	}{
		{"full merge chain", "hello", []int{261}},
		{"rank order: ll beats el", "yellow", []int{88, 68, 257, 78, 86}},
		{"space-led words", " the hello", []int{260, 220, 261}},
		{"no Ġt without a space", "the", []int{83, 256}},
		{"added token first", "<|end|>hello", []int{264, 261}},
		{"added tokens inside", "hello<|end|> the<|begin|>", []int{261, 264, 260, 263}},
		{"contraction split", "it's", []int{72, 83, 6, 82}},
		{`\s+(?!\S) lookahead`, "a\n\nb", []int{64, 198, 198, 65}},
		{"space before a word stays with it", "  x", []int{220, 220, 87}},
		{"two-byte character", "é", []int{127, 102}},
		{"empty", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := tok.Encode(c.text)
			if !slices.Equal(got, c.want) {
				t.Fatalf("Encode(%q) = %v, want %v", c.text, got, c.want)
			}
			if back := tok.Decode(got); back != c.text {
				t.Fatalf("Decode = %q, want %q", back, c.text)
			}
		})
	}
	if n := tok.NumSpecialTokens(); n != 1 {
		t.Errorf("NumSpecialTokens = %d, want 1", n)
	}
	if s := tok.Decode([]int{127}); s != "\uFFFD" {
		t.Errorf("half a character decodes to %q, want U+FFFD", s)
	}
	if s := tok.Decode([]int{261, 9999, -1, 220, 264}); s != "hello <|end|>" {
		t.Errorf("unknown ids should be skipped: %q", s)
	}
}

type goldenCase struct {
	Text     string `json:"text"`
	IDs      []int  `json:"ids"`
	Specials int    `json:"specials"`
	Decoded  string `json:"decoded"`
}

// TestGolden compares with HuggingFace tokenizers on three tokenizers trained
// in the shapes of GPT-2, Llama 3 and SmolLM2 (testdata/bpe_golden/gen.py).
func TestGolden(t *testing.T) {
	for _, kind := range []string{"gpt2", "llama3", "digits"} {
		t.Run(kind, func(t *testing.T) {
			tok := mustLoad(t, filepath.Join("testdata/bpe_golden", kind+".json"))
			for i, c := range readGolden(t, kind) {
				if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
					t.Errorf("case %d Encode(%.60q)\n got %v\nwant %v", i, c.Text, got, c.IDs)
				}
				if tok.NumSpecialTokens() != c.Specials {
					t.Errorf("NumSpecialTokens = %d, want %d", tok.NumSpecialTokens(), c.Specials)
				}
				if got := tok.Decode(c.IDs); got != c.Decoded {
					t.Errorf("case %d Decode = %.60q, want %.60q", i, got, c.Decoded)
				}
			}
		})
	}
}

func readGolden(t testing.TB, kind string) []goldenCase {
	b, err := os.ReadFile(filepath.Join("testdata/bpe_golden", kind+".golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestMergeStringForm: tokenizers before 0.20 wrote merges as "a b"; the same
// tokenizer in that form must encode the same.
func TestMergeStringForm(t *testing.T) {
	j := readJSON(t, "testdata/bpe_golden/gpt2.json")
	model := j["model"].(map[string]any)
	var merges []string
	for _, m := range model["merges"].([]any) {
		p := m.([]any)
		merges = append(merges, p[0].(string)+" "+p[1].(string))
	}
	model["merges"] = merges
	b, _ := json.Marshal(j)
	tok, err := parseBPE(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range readGolden(t, "gpt2") {
		if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%.60q) = %v, want %v", c.Text, got, c.IDs)
		}
	}
}

func readJSON(t testing.TB, path string) map[string]any {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestUnsupported: every tokenizer this package cannot reproduce exactly is
// refused with the part named, never loaded to give wrong counts.
func TestUnsupported(t *testing.T) {
	for _, c := range []struct {
		name, want string
		edit       func(j map[string]any)
	}{
		{"WordPiece", "model type", func(j map[string]any) { model(j)["type"] = "WordPiece" }},
		{"Unigram", "model type", func(j map[string]any) { model(j)["type"] = "Unigram" }},
		{"byte fallback (Llama 2)", "pre_tokenizer", func(j map[string]any) {
			model(j)["byte_fallback"] = true
			j["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁"}
		}},
		{"Sequence decoder with Strip", "decoder", func(j map[string]any) {
			j["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{map[string]any{"type": "Strip"}, map[string]any{"type": "ByteLevel"}}}
		}},
		{"Sequence decoder not ending in ByteLevel", "decoder", func(j map[string]any) {
			j["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{map[string]any{"type": "ByteLevel"}, map[string]any{"type": "Fuse"}}}
		}},
		{"dropout", "dropout", func(j map[string]any) { model(j)["dropout"] = 0.1 }},
		{"subword prefix", "continuing_subword_prefix", func(j map[string]any) { model(j)["continuing_subword_prefix"] = "##" }},
		{"Metaspace", "pre_tokenizer", func(j map[string]any) { j["pre_tokenizer"] = map[string]any{"type": "Metaspace"} }},
		{"no pre-tokenizer", "pre_tokenizer", func(j map[string]any) { j["pre_tokenizer"] = nil }},
		{"Split Removed", "pre_tokenizer", func(j map[string]any) {
			j["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `\s`}, "behavior": "Removed", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}}}
		}},
		{"bad regex", "Split pattern", func(j map[string]any) {
			j["pre_tokenizer"] = map[string]any{"type": "Sequence", "pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `(`}, "behavior": "Isolated", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}}}
		}},
		{"Lowercase normalizer", "normalizer", func(j map[string]any) { j["normalizer"] = map[string]any{"type": "Lowercase"} }},
		{"WordPiece decoder", "decoder", func(j map[string]any) { j["decoder"] = map[string]any{"type": "WordPiece"} }},
		{"no decoder", "decoder", func(j map[string]any) { j["decoder"] = nil }},
		{"odd post-processor", "post_processor", func(j map[string]any) { j["post_processor"] = map[string]any{"type": "Whatever"} }},
		{"not byte-level: 40 byte symbols missing", "not a byte-level BPE", func(j map[string]any) {
			for c := range 40 {
				delete(model(j)["vocab"].(map[string]any), string(byteEnc[c]))
			}
		}},
		{"merge of unknown tokens", "not in vocab", func(j map[string]any) { model(j)["merges"] = []any{"x y"} }},
		{"malformed merge", "merge 0", func(j map[string]any) { model(j)["merges"] = []any{"xy"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := readJSON(t, "testdata/tiny_tokenizer.json")
			c.edit(j)
			b, _ := json.Marshal(j)
			_, err := parseBPE(b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
	if _, err := parseBPE([]byte(`[1,2]`)); err == nil {
		t.Error("a JSON list is not a tokenizer.json")
	}
	if _, err := LoadBPE("testdata/missing.json"); err == nil {
		t.Error("a missing file loads")
	}
}

func model(j map[string]any) map[string]any { return j["model"].(map[string]any) }

func TestLossyUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\xffb", "a\uFFFDb"},
		{"\xe2\x82", "\uFFFD"},                 // truncated 3-byte sequence: one replacement
		{"\xe2\x82\xe2\x82", "\uFFFD\uFFFD"},   // two truncated sequences: two
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"}, // surrogate: ED's second byte must be < A0
		{"\xf0\x9f\xa4", "\uFFFD"},
		{"\xf0\x9f\xa4\x96", "🤖"},
		{"\uFFFD", "\uFFFD"},
	} {
		if got := lossyUTF8([]byte(c.in)); got != c.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEstimate(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
	}{{"", 0}, {"a", 1}, {"abcd", 1}, {"abcde", 2}, {"日本語", 3}, {strings.Repeat("x", 400), 100}} {
		ids := Estimate{}.Encode(c.text)
		if len(ids) != c.n {
			t.Errorf("Estimate(%q) = %d tokens, want %d", c.text, len(ids), c.n)
		}
		if back := (Estimate{}).Decode(ids); back != c.text {
			t.Errorf("Decode(Encode(%q)) = %q", c.text, back)
		}
	}
	if s := (Estimate{}).Decode([]int{0, -1, 1 << 40}); s != "" {
		t.Errorf("ids Encode cannot make decode to %q", s)
	}
}

// TestCounterConcurrent: a benchmark's workers count replies at once.
func TestCounterConcurrent(t *testing.T) {
	c, err := NewCounter("testdata/bpe_golden/llama3.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != SourceTokenizer {
		t.Fatalf("Source = %q", c.Source)
	}
	cases := readGolden(t, "llama3")
	done := make(chan error)
	for w := range 8 {
		go func() {
			for i := range cases {
				cs := cases[(i+w)%len(cases)]
				if n := c.Count(cs.Text); n != len(cs.IDs) {
					done <- &countErr{cs.Text, n, len(cs.IDs)}
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	e, _ := NewCounter("")
	if e.Source != SourceEstimate || e.Count("abcdefgh") != 2 {
		t.Errorf("estimate counter: %q %d", e.Source, e.Count("abcdefgh"))
	}
}

type countErr struct {
	text      string
	got, want int
}

func (e *countErr) Error() string { return e.text + ": wrong count" }

// TestGGUFStyleByteLevel: the tokenizer.json transformers writes for a GGUF
// tokenizer (byte-level BPE with byte_fallback, fuse_unk and a decoder
// Sequence of ByteFallback, Fuse, Replace ▁ and ByteLevel) encodes and
// decodes exactly like the same tokenizer without those parts.
func TestGGUFStyleByteLevel(t *testing.T) {
	j := readJSON(t, "testdata/tiny_tokenizer.json")
	plainJSON, _ := json.Marshal(j)
	model(j)["byte_fallback"] = true
	model(j)["fuse_unk"] = true
	j["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{
		map[string]any{"type": "ByteFallback"},
		map[string]any{"type": "Fuse"},
		map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
		map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}}}
	ggufJSON, _ := json.Marshal(j)
	plain, err := parseBPE(plainJSON)
	if err != nil {
		t.Fatal(err)
	}
	gguf, err := parseBPE(ggufJSON)
	if err != nil {
		t.Fatalf("GGUF-style byte-level tokenizer refused: %v", err)
	}
	for _, text := range []string{"", "hello world", "  leading spaces", "naïve café ☕ 123456", "line\nbreak\ttab", "\x00\xff raw"} {
		a, b := plain.Encode(text), gguf.Encode(text)
		if !slices.Equal(a, b) {
			t.Errorf("%q: byte_fallback tokenizer gives %v, plain %v", text, b, a)
		}
		if got, want := gguf.Decode(b), plain.Decode(a); got != want {
			t.Errorf("%q: decode %q, plain %q", text, got, want)
		}
	}
}

// TestMissingByteSymbols: a byte whose byte-level symbol is not in the vocab
// becomes byte_fallback's <0xNN> token when there is one, else unk_token,
// consecutive unks fused into one with fuse_unk (what tokenizers gives for
// the converted SmolLM2 tokenizer: "a\x04b" → a, unk, b; "\x04\x04x" → unk, x).
func TestMissingByteSymbols(t *testing.T) {
	plain := mustLoad(t, "testdata/tiny_tokenizer.json")
	ctl := string(byteEnc[0x04]) // the byte-level symbol of byte 0x04
	build := func(edit func(m map[string]any)) *BPE {
		j := readJSON(t, "testdata/tiny_tokenizer.json")
		m := model(j)
		vocab := m["vocab"].(map[string]any)
		delete(vocab, ctl)
		vocab["<unk>"] = float64(900)
		vocab["<0x04>"] = float64(901)
		edit(m)
		b, _ := json.Marshal(j)
		tok, err := parseBPE(b)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	a, b, x := plain.Encode("a"), plain.Encode("b"), plain.Encode("x")
	cat := func(parts ...[]int) []int { return slices.Concat(parts...) }
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		text string
		want []int
	}{
		{"unk", func(m map[string]any) { m["unk_token"] = "<unk>" }, "a\x04b", cat(a, []int{900}, b)},
		{"unk not fused", func(m map[string]any) { m["unk_token"] = "<unk>" }, "\x04\x04x", cat([]int{900, 900}, x)},
		{"unk fused", func(m map[string]any) { m["unk_token"] = "<unk>"; m["fuse_unk"] = true }, "\x04\x04x", cat([]int{900}, x)},
		{"byte fallback first", func(m map[string]any) { m["unk_token"] = "<unk>"; m["byte_fallback"] = true }, "a\x04b", cat(a, []int{901}, b)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := build(c.edit).Encode(c.text); !slices.Equal(got, c.want) {
				t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
			}
		})
	}
}

// TestDroppedByteSymbol: a byte whose symbol the vocabulary lacks, with no
// unk_token and no byte fallback, is dropped, as tokenizers' BPE drops it
// (SmolLM2's tokenizer as transformers 5 converts it from GGUF): "x\x01y"
// is "x" then "y", nothing for the control byte.
func TestDroppedByteSymbol(t *testing.T) {
	j := readJSON(t, "testdata/tiny_tokenizer.json")
	delete(model(j)["vocab"].(map[string]any), string(byteEnc[0x01]))
	model(j)["unk_token"], model(j)["byte_fallback"] = nil, false
	b, _ := json.Marshal(j)
	tok, err := parseBPE(b)
	if err != nil {
		t.Fatal(err)
	}
	got, want := tok.Encode("x\x01y"), append(tok.Encode("x"), tok.Encode("y")...)
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Fatalf("Encode(x\\x01y) = %v, want %v", got, want)
	}
}
