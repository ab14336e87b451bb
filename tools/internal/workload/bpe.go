package workload

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// BPE is a byte-level BPE tokenizer read from a HuggingFace tokenizer.json, the
// kind GPT-2, Llama 3, Qwen2 and SmolLM2 ship. It exists so that prompt
// lengths are counted the way the served model counts them, without Python.
//
// Only what these tokenizers use is supported: model BPE (no dropout, no
// byte fallback, no subword prefix or suffix), an optional Unicode normalizer
// (NFC, NFD, NFKC, NFKD), a pre-tokenizer made of Split (Isolated) and Digits
// steps ending in ByteLevel, a ByteLevel decoder, and a post-processor that
// only adds special tokens. Anything else is refused by LoadBPE, because a
// tokenizer that is only roughly right would give wrong counts silently.
type BPE struct {
	vocab       map[string]int
	idToToken   []string // vocab and added tokens by id; "" where no token
	merges      map[uint64]merge
	byteID      [256]int32 // token id of each single byte symbol; -1 when the vocab lacks it
	fallbackID  [256]int32 // byte_fallback's <0xNN> token, or -1
	unkID       int32      // model.unk_token's id, or -1
	fuseUnk     bool       // consecutive unknown symbols give one unk
	added       map[byte][]addedToken
	addedIDs    map[int]bool
	norm        []norm.Form
	steps       []preStep
	prefixSpace bool // ByteLevel add_prefix_space
	byteRegex   bool // ByteLevel use_regex: split with GPT-2's pattern
	ignoreMerge bool // model.ignore_merges: a word in the vocab is one token
	specials    int  // tokens the post-processor adds to one sequence
	cache       *wordCache
	poolState   // random prompts' word pool, built on first use
}

type merge struct{ rank, id int32 }

type addedToken struct {
	content                    string
	id                         int
	singleWord, lstrip, rstrip bool
}

// preStep is one Split or Digits pre-tokenizer step.
type preStep struct {
	re         *regexp2.Regexp // Split
	digits     bool            // Digits
	individual bool            // Digits: each digit alone
}

// gpt2Pattern is the split ByteLevel applies when use_regex is true.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

var gpt2Regexp = regexp2.MustCompile(gpt2Pattern, regexp2.None)

type tokenizerFile struct {
	AddedTokens []struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type         string            `json:"type"`
		Vocab        map[string]int    `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
		Dropout      *float64          `json:"dropout"`
		ContPrefix   *string           `json:"continuing_subword_prefix"`
		EndSuffix    *string           `json:"end_of_word_suffix"`
		ByteFallback bool              `json:"byte_fallback"`
		FuseUnk      bool              `json:"fuse_unk"`
		UnkToken     *string           `json:"unk_token"`
		IgnoreMerges bool              `json:"ignore_merges"`
	} `json:"model"`
}

// maxDroppedBytes is how many of the 256 byte-level symbols a vocabulary
// may lack without unk_token or byte fallback (they are dropped, as
// tokenizers does); SmolLM2's lacks 21.
const maxDroppedBytes = 32

// LoadBPE reads a HuggingFace tokenizer.json. It fails, naming the part, on
// any tokenizer it cannot reproduce exactly.
func LoadBPE(path string) (*BPE, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := parseBPE(b)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return t, nil
}

func parseBPE(b []byte) (*BPE, error) {
	var f tokenizerFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	m := f.Model
	switch {
	case m.Type != "BPE":
		return nil, fmt.Errorf("model type %q is not supported (only byte-level BPE)", m.Type)
	case m.Dropout != nil && *m.Dropout != 0:
		return nil, fmt.Errorf("BPE dropout makes counts random; not supported")
	case m.ContPrefix != nil && *m.ContPrefix != "", m.EndSuffix != nil && *m.EndSuffix != "":
		return nil, fmt.Errorf("continuing_subword_prefix / end_of_word_suffix are not supported")
	}
	t := &BPE{vocab: m.Vocab, merges: make(map[uint64]merge, len(m.Merges)), added: map[byte][]addedToken{},
		addedIDs: map[int]bool{}, ignoreMerge: m.IgnoreMerges, cache: newWordCache()}
	maxID := -1
	for _, id := range m.Vocab {
		maxID = max(maxID, id)
	}
	for _, a := range f.AddedTokens {
		maxID = max(maxID, a.ID)
	}
	if maxID < 0 || maxID > 1<<24 {
		return nil, fmt.Errorf("vocab ids out of range (max %d)", maxID)
	}
	t.idToToken = make([]string, maxID+1)
	for tok, id := range m.Vocab {
		if id < 0 {
			return nil, fmt.Errorf("negative id %d for %q", id, tok)
		}
		t.idToToken[id] = tok
	}
	// A byte-level symbol the vocab lacks (SmolLM2's, converted from GGUF,
	// lacks 21 control and invalid-UTF-8 bytes) is handled as tokenizers'
	// BPE does: byte_fallback's <0xNN> token when the vocab has it, else
	// unk_token (consecutive ones fused into one when fuse_unk), else the
	// symbol is dropped, as the server's tokenizer drops it (transformers 5
	// converts SmolLM2's GGUF tokenizer with neither), so that the counts
	// stay the server's. A vocabulary that lacks many byte symbols is not a
	// byte-level BPE at all, and is refused.
	t.unkID, t.fuseUnk = -1, m.FuseUnk
	if m.UnkToken != nil {
		if id, ok := m.Vocab[*m.UnkToken]; ok {
			t.unkID = int32(id)
		}
	}
	var dropped []string
	for c := range 256 {
		t.byteID[c], t.fallbackID[c] = -1, -1
		if m.ByteFallback {
			if id, ok := m.Vocab[fmt.Sprintf("<0x%02X>", c)]; ok {
				t.fallbackID[c] = int32(id)
			}
		}
		id, ok := m.Vocab[string(byteEnc[c])]
		if !ok && t.fallbackID[c] < 0 && t.unkID < 0 {
			dropped = append(dropped, fmt.Sprintf("%#02x", c))
		}
		if ok {
			t.byteID[c] = int32(id)
		}
	}
	if len(dropped) > maxDroppedBytes {
		return nil, fmt.Errorf("vocab lacks the byte-level symbols of %d bytes (%s, ...) with no unk_token or byte fallback for them; not a byte-level BPE", len(dropped), strings.Join(dropped[:8], " "))
	}
	for rank, raw := range m.Merges {
		a, b, err := mergePair(raw)
		if err != nil {
			return nil, fmt.Errorf("merge %d: %w", rank, err)
		}
		ia, oka := m.Vocab[a]
		ib, okb := m.Vocab[b]
		in, okn := m.Vocab[a+b]
		if !oka || !okb || !okn {
			return nil, fmt.Errorf("merge %d (%q %q): token not in vocab", rank, a, b)
		}
		k := pairKey(int32(ia), int32(ib))
		if _, dup := t.merges[k]; !dup { // the first (lowest) rank wins
			t.merges[k] = merge{rank: int32(rank), id: int32(in)}
		}
	}
	for _, a := range f.AddedTokens {
		if a.Content == "" || a.ID < 0 {
			continue
		}
		t.idToToken[a.ID] = a.Content
		t.addedIDs[a.ID] = true
		c := a.Content[0]
		t.added[c] = append(t.added[c], addedToken{a.Content, a.ID, a.SingleWord, a.Lstrip, a.Rstrip})
	}
	for c := range t.added { // longest first: leftmost-longest matching
		slices.SortStableFunc(t.added[c], func(x, y addedToken) int { return len(y.content) - len(x.content) })
	}
	if err := t.parseNormalizer(f.Normalizer); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	if err := t.parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	if err := checkDecoder(f.Decoder); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	n, err := countSpecials(f.PostProcessor)
	if err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	t.specials = n
	return t, nil
}

// mergePair reads a merge in either form tokenizers writes: "a b" (before
// 0.20) or ["a", "b"].
func mergePair(raw json.RawMessage) (string, string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return "", "", fmt.Errorf("%q is not \"a b\"", s)
		}
		return a, b, nil
	}
	var p []string
	if err := json.Unmarshal(raw, &p); err != nil || len(p) != 2 {
		return "", "", fmt.Errorf("%s is neither \"a b\" nor [a, b]", raw)
	}
	return p[0], p[1], nil
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }
