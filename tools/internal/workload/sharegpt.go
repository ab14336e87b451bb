package workload

import (
	"encoding/json"
	"fmt"
	"os"
)

// vLLM's is_valid_sequence defaults (vllm/benchmarks/datasets.py, 0.11):
// drop a pair whose prompt or output is under 4 tokens, whose prompt is over
// 1024, or whose prompt+output is over 2048.
const (
	minSeqTokens    = 4
	maxPromptTokens = 1024
	maxTotalTokens  = 2048
)

// Reasons an entry is skipped, the keys of Set.Skipped.
const (
	SkipNoConversation = "no_conversation"      // no turns at all
	SkipFirstNotHuman  = "first_turn_not_human" // the first turn is a system or gpt turn
	SkipSecondNotReply = "second_turn_not_gpt"  // two human turns in a row
	SkipNoReply        = "no_reply"             // no reply and no Spec.OutputTokens
	SkipPromptShort    = "prompt_too_short"     // prompt < 4 tokens
	SkipOutputShort    = "output_too_short"     // reply < 4 tokens
	SkipPromptLong     = "prompt_too_long"      // prompt > 1024 tokens
	SkipTotalLong      = "total_too_long"       // prompt + output > 2048 tokens
)

type shareGPTEntry struct {
	Conversations []struct {
		From  string `json:"from"`
		Value string `json:"value"`
	} `json:"conversations"`
}

var (
	humanRoles = map[string]bool{"human": true, "user": true}
	replyRoles = map[string]bool{"gpt": true, "chatgpt": true, "bard": true, "bing": true, "assistant": true}
)

// parseShareGPT reads ShareGPT's layout: a JSON list of {"id",
// "conversations": [{"from", "value"}, ...]}.
func parseShareGPT(b []byte) ([]shareGPTEntry, error) {
	var entries []shareGPTEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf(`not a ShareGPT JSON list of {"conversations": [{"from", "value"}]}: %w`, err)
	}
	return entries, nil
}

// turns picks the first human prompt and the gpt reply after it. vLLM takes
// conversations[0] and [1] whatever their roles; here a conversation must
// open with a human turn, and a second turn must be a reply.
func (e shareGPTEntry) turns() (prompt, reply string, hasReply bool, skip string) {
	c := e.Conversations
	switch {
	case len(c) == 0:
		return "", "", false, SkipNoConversation
	case !humanRoles[c[0].From]:
		return "", "", false, SkipFirstNotHuman
	case len(c) == 1:
		return c[0].Value, "", false, ""
	case !replyRoles[c[1].From]:
		return "", "", false, SkipSecondNotReply
	}
	return c[0].Value, c[1].Value, true, ""
}

// sampleShareGPT follows ShareGPTDataset.load_data and sample: shuffle with the
// seed, walk the entries, keep those is_valid_sequence accepts until
// NumPrompts are found. Tokens are counted as vLLM's tokenizer(text).input_ids
// counts them, special tokens included (so a Llama 3 reply counts its BOS).
//
// The files at hand hold only first turns. A conversation without a reply
// takes Spec.OutputTokens as its output length, like vLLM's
// --sharegpt-output-len, which also skips the minimum-output check. Unlike
// vLLM, too few valid entries is an error: prompts are never repeated.
func sampleShareGPT(spec Spec, b []byte, tok Tokenizer, skipped map[string]int) ([]Request, error) {
	entries, err := parseShareGPT(b)
	if err != nil {
		return nil, fmt.Errorf("sharegpt: %s: %w", spec.Dataset, err)
	}
	replies := 0
	for _, e := range entries {
		if _, _, ok, _ := e.turns(); ok {
			replies++
		}
	}
	if replies == 0 && spec.OutputTokens == 0 {
		return nil, fmt.Errorf("sharegpt: %s has no gpt replies (each conversation holds only its prompt), so it gives no output lengths: pass an output length (Spec.OutputTokens > 0)", spec.Dataset)
	}
	specials := numSpecials(tok)
	count := func(s string) int { return len(tok.Encode(s)) + specials }
	var out []Request
	for _, i := range newRNG(spec.Seed, streamShuffle).perm(len(entries)) {
		if len(out) == spec.NumPrompts {
			break
		}
		prompt, reply, hasReply, skip := entries[i].turns()
		if skip == "" && !hasReply && spec.OutputTokens == 0 {
			skip = SkipNoReply
		}
		if skip != "" {
			skipped[skip]++
			continue
		}
		p, o, src := count(prompt), spec.OutputTokens, OutputFixed
		if hasReply {
			o, src = count(reply), OutputReference
		}
		if skip = checkLengths(p, o, !hasReply); skip != "" {
			skipped[skip]++
			continue
		}
		out = append(out, Request{Index: len(out), Prompt: prompt, PromptTokens: p, MaxTokens: o, OutputSource: src})
	}
	if len(out) < spec.NumPrompts {
		return nil, fmt.Errorf("sharegpt: %s: only %d of %d conversations pass vLLM's filters, %d requested (skipped: %v); prompts are not repeated",
			spec.Dataset, len(out), len(entries), spec.NumPrompts, skipped)
	}
	return out, nil
}

// checkLengths is is_valid_sequence; the first failed rule names the skip.
func checkLengths(prompt, output int, fixedOutput bool) string {
	switch {
	case prompt < minSeqTokens:
		return SkipPromptShort
	case !fixedOutput && output < minSeqTokens:
		return SkipOutputShort
	case prompt > maxPromptTokens:
		return SkipPromptLong
	case prompt+output > maxTotalTokens:
		return SkipTotalLong
	}
	return ""
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return b, nil
}
