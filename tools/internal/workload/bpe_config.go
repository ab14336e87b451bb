package workload

import (
	"encoding/json"
	"fmt"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// The parts of a tokenizer.json around the BPE model. Each parser accepts the
// few shapes byte-level BPE tokenizers use and names anything else, since
// guessing at one would change counts without a word.

// component is the common shape of normalizers, pre-tokenizers, decoders and
// post-processors: a "type" and type-specific fields.
type component struct {
	Type          string            `json:"type"`
	Normalizers   []json.RawMessage `json:"normalizers"`
	Pretokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
	Decoders      json.RawMessage   `json:"decoders"`
	Content       string            `json:"content"`
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
	if c.Type == "ByteLevel" {
		return nil
	}
	if c.Type != "Sequence" {
		return fmt.Errorf("%q is not supported (only ByteLevel)", c.Type)
	}
	// A Sequence ending in ByteLevel whose other steps only touch what a
	// byte-level vocabulary never produces: <0xNN> byte tokens (ByteFallback),
	// unknown-token runs (Fuse), and the SentencePiece space mark (Replace
	// "▁" → " "). transformers writes this decoder for GGUF tokenizers.
	var steps []component
	if err := json.Unmarshal(c.Decoders, &steps); err != nil || len(steps) == 0 {
		return fmt.Errorf("a Sequence decoder without decoders")
	}
	for i, st := range steps {
		switch {
		case i == len(steps)-1 && st.Type == "ByteLevel":
		case st.Type == "ByteFallback" || st.Type == "Fuse":
		case st.Type == "Replace" && st.Pattern.String != nil && *st.Pattern.String == "\u2581" && st.Content == " ":
		default:
			return fmt.Errorf("decoder step %d of the Sequence, %q, is not supported (ByteFallback, Fuse, Replace ▁, then ByteLevel)", i, st.Type)
		}
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
