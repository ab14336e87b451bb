package textcount

import "testing"

// TestCount: o200k_base counts as OpenAI's tiktoken does. The expected
// counts are tiktoken 0.14.0's (tiktoken.get_encoding("o200k_base").
// encode_ordinary, run offline with TIKTOKEN_CACHE_DIR holding the same
// ranks file, sha256 446a9538…) for the same strings.
func TestCount(t *testing.T) {
	a := ""
	for range 1000 {
		a += "a "
	}
	for _, c := range []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{a, 1001},
		{"héllo wörld, 你好! 123456789", 13},
		{"What is 2 + 3?\n\nLet's think step by step.", 14},
	} {
		got, err := Count(c.text)
		if err != nil || got != c.want {
			t.Errorf("Count(%.20q) = %d, %v; want %d", c.text, got, err, c.want)
		}
	}
}

// TestMeasure: characters are Unicode characters, the self count is the
// workload's own, and the record encodes against its schema.
func TestMeasure(t *testing.T) {
	r, err := Measure([]Prompt{{Text: "héllo", SelfTokens: 3}, {Text: "world", SelfTokens: 2}}, "the model's tokenizer", false)
	if err != nil {
		t.Fatal(err)
	}
	if r.PromptChars != 10 || r.Requests != 2 {
		t.Errorf("chars %d requests %d, want 10 and 2", r.PromptChars, r.Requests)
	}
	if n, ok := r.TokensOf(Self); !ok || n != 5 {
		t.Errorf("self tokens %d %v, want 5", n, ok)
	}
	if _, ok := r.TokensOf("cl100k_base"); ok {
		t.Error("a tokenizer not counted is reported")
	}
	r.RunID, r.Experiment, r.RequestSequenceSHA256 = "r", "x", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if _, err := Encode(r); err != nil {
		t.Error(err)
	}
}
