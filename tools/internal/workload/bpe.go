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
	byteID      [256]int32 // token id of each single byte symbol
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
		IgnoreMerges bool              `json:"ignore_merges"`
	} `json:"model"`
}

// component is the common shape of normalizers, pre-tokenizers, decoders and
// post-processors: a "type" and type-specific fields.
type component struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Pattern       struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Behavior       string                       `json:"behavior"`
	Invert         bool                         `json:"invert"`
	Individual     bool                         `json:"individual_digits"`
	AddPrefixSpace *bool                        `json:"add_prefix_space"`
	UseRegex       *bool                        `json:"use_regex"`
	Single         []map[string]json.RawMessage `json:"single"`
}

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
	case m.ByteFallback:
		return nil, fmt.Errorf("byte_fallback BPE (SentencePiece style) is not supported")
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
	for c := range 256 {
		id, ok := m.Vocab[string(byteEnc[c])]
		if !ok {
			return nil, fmt.Errorf("vocab lacks the byte-level symbol for byte %#02x; not a byte-level BPE", c)
		}
		t.byteID[c] = int32(id)
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

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func (t *BPE) parseNormalizer(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	forms := map[string]norm.Form{"NFC": norm.NFC, "NFD": norm.NFD, "NFKC": norm.NFKC, "NFKD": norm.NFKD}
	if f, ok := forms[c.Type]; ok {
		t.norm = append(t.norm, f)
		return nil
	}
	if c.Type == "Sequence" {
		for _, n := range c.Normalizers {
			if err := t.parseNormalizer(n); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%q is not supported", c.Type)
}

func (t *BPE) parsePreTokenizer(raw json.RawMessage) error {
	if isNull(raw) {
		return fmt.Errorf("missing; a ByteLevel pre-tokenizer is required")
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	list := []json.RawMessage{raw}
	if c.Type == "Sequence" {
		list = c.Pretokenizers
	}
	for i, r := range list {
		var s component
		if err := json.Unmarshal(r, &s); err != nil {
			return err
		}
		last := i == len(list)-1
		switch {
		case s.Type == "ByteLevel" && last:
			if s.AddPrefixSpace == nil {
				return fmt.Errorf("ByteLevel without add_prefix_space")
			}
			t.prefixSpace = *s.AddPrefixSpace
			t.byteRegex = s.UseRegex == nil || *s.UseRegex
			return nil
		case s.Type == "Split" && !s.Invert && s.Behavior == "Isolated":
			pat := ""
			switch {
			case s.Pattern.Regex != nil:
				pat = *s.Pattern.Regex
			case s.Pattern.String != nil:
				pat = regexp2.Escape(*s.Pattern.String)
			default:
				return fmt.Errorf("a Split step has no pattern")
			}
			re, err := regexp2.Compile(pat, regexp2.None)
			if err != nil {
				return fmt.Errorf("the Split pattern: %w", err)
			}
			t.steps = append(t.steps, preStep{re: re})
		case s.Type == "Digits":
			t.steps = append(t.steps, preStep{digits: true, individual: s.Individual})
		default:
			return fmt.Errorf("step %d (%s, behavior %q, invert %v) is not supported; need Split(Isolated)/Digits steps ending in ByteLevel",
				i, s.Type, s.Behavior, s.Invert)
		}
	}
	return fmt.Errorf("does not end in ByteLevel")
}

func checkDecoder(raw json.RawMessage) error {
	var c component
	if isNull(raw) {
		return fmt.Errorf("missing; a ByteLevel decoder is required")
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	if c.Type != "ByteLevel" {
		return fmt.Errorf("%q is not supported (only ByteLevel)", c.Type)
	}
	return nil
}

// countSpecials is how many special tokens the post-processor adds to a single
// sequence: transformers' num_special_tokens_to_add(), what
// tokenizer(text).input_ids holds beyond the text's own tokens.
func countSpecials(raw json.RawMessage) (int, error) {
	if isNull(raw) {
		return 0, nil
	}
	var c component
	if err := json.Unmarshal(raw, &c); err != nil {
		return 0, err
	}
	switch c.Type {
	case "ByteLevel":
		return 0, nil
	case "BertProcessing", "RobertaProcessing":
		return 2, nil
	case "TemplateProcessing":
		n := 0
		for _, item := range c.Single {
			if _, ok := item["SpecialToken"]; ok {
				n++
			} else if _, ok := item["Sequence"]; !ok {
				return 0, fmt.Errorf("template item %v is not supported", item)
			}
		}
		return n, nil
	case "Sequence":
		n := 0
		for _, p := range c.Processors {
			k, err := countSpecials(p)
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	}
	return 0, fmt.Errorf("%q is not supported", c.Type)
}

var byteEnc, byteDec = byteAlphabet()

// byteAlphabet is GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for
// themselves, the others are shifted to 256+n so that every byte is a visible
// character in the vocab.
func byteAlphabet() (enc [256]rune, dec map[rune]byte) {
	dec = make(map[rune]byte, 256)
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			enc[b] = rune(b)
		} else {
			enc[b] = rune(256 + n)
			n++
		}
		dec[enc[b]] = byte(b)
	}
	return enc, dec
}
