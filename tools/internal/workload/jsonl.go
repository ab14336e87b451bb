package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// jsonlEntry is one prompt of a JSONL dataset; maxTokens 0 means the line
// gave none.
type jsonlEntry struct {
	line      int
	prompt    string
	maxTokens int
}

type jsonlLine struct {
	Prompt       *string `json:"prompt"`
	MaxTokens    *int    `json:"max_tokens"`
	OutputTokens *int    `json:"output_tokens"`
}

// parseJSONL reads one JSON object per line: "prompt" (required, non-empty)
// and optionally "max_tokens" or its synonym "output_tokens" (> 0). Blank
// lines are skipped; any other bad line is an error naming name:line, since a
// dataset that loses lines silently would change the workload unnoticed.
func parseJSONL(name string, b []byte) ([]jsonlEntry, error) {
	var out []jsonlEntry
	for i, raw := range bytes.Split(b, []byte("\n")) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		at := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, a...))
		}
		var l jsonlLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, at("%v", err)
		}
		if raw[0] != '{' {
			return nil, at("not a JSON object")
		}
		if l.Prompt == nil || *l.Prompt == "" {
			return nil, at(`no "prompt"`)
		}
		e := jsonlEntry{line: i + 1, prompt: *l.Prompt}
		for _, v := range []*int{l.MaxTokens, l.OutputTokens} {
			switch {
			case v == nil:
			case *v < 1:
				return nil, at("max_tokens/output_tokens must be at least 1, got %d", *v)
			case e.maxTokens != 0 && e.maxTokens != *v:
				return nil, at("max_tokens %d and output_tokens %d disagree", e.maxTokens, *v)
			default:
				e.maxTokens = *v
			}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no prompts", name)
	}
	return out, nil
}

// sampleJSONL follows vLLM's custom dataset: shuffle with the seed, take the
// first NumPrompts. A line's own max_tokens is its output length
// (OutputReference), else Spec.OutputTokens (OutputFixed); a line with
// neither is an error. No length filters apply: the file is the workload.
func sampleJSONL(spec Spec, b []byte, tok Tokenizer) ([]Request, error) {
	entries, err := parseJSONL(spec.Dataset, b)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	for _, e := range entries {
		if e.maxTokens == 0 && spec.OutputTokens == 0 {
			return nil, fmt.Errorf("jsonl: %s:%d: no max_tokens and no output length given (Spec.OutputTokens)", spec.Dataset, e.line)
		}
	}
	if len(entries) < spec.NumPrompts {
		return nil, fmt.Errorf("jsonl: %s has %d prompts, %d requested; prompts are not repeated", spec.Dataset, len(entries), spec.NumPrompts)
	}
	specials := numSpecials(tok)
	out := make([]Request, 0, spec.NumPrompts)
	for _, i := range newRNG(spec.Seed, streamShuffle).perm(len(entries))[:spec.NumPrompts] {
		e := entries[i]
		r := Request{Index: len(out), Prompt: e.prompt, PromptTokens: len(tok.Encode(e.prompt)) + specials,
			MaxTokens: e.maxTokens, OutputSource: OutputReference}
		if e.maxTokens == 0 {
			r.MaxTokens, r.OutputSource = spec.OutputTokens, OutputFixed
		}
		out = append(out, r)
	}
	return out, nil
}
