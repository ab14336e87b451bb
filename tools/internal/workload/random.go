package workload

import (
	"fmt"
	"strings"
	"sync"
)

// randomRequests is vLLM's RandomDataset with range_ratio 0: every prompt is
// exactly InputTokens tokens as the server counts them (text plus the special
// tokens it adds, as vLLM subtracts num_special_tokens_to_add), every output
// OutputTokens. Each prompt opens with its index ("17: ...") so that no two
// share a first KV-cache block and prefix caching cannot serve one from
// another. The rest is random: vocabulary words drawn with the seed, decoded,
// re-encoded and adjusted until the count is exact (with a tokenizer), or
// words cut to exactly 4×InputTokens bytes (with the estimate).
func randomRequests(spec Spec, tok Tokenizer) ([]Request, error) {
	if spec.InputTokens < 1 || spec.OutputTokens < 1 {
		return nil, fmt.Errorf("random: InputTokens and OutputTokens must be at least 1, got %d and %d", spec.InputTokens, spec.OutputTokens)
	}
	target := spec.InputTokens - numSpecials(tok)
	if target < 1 {
		return nil, fmt.Errorf("random: InputTokens %d leaves no text beside the tokenizer's %d special tokens", spec.InputTokens, numSpecials(tok))
	}
	r := newRNG(spec.Seed, streamRandom)
	var pool []int
	if b, ok := tok.(*BPE); ok {
		pool = b.wordPool()
	}
	out := make([]Request, spec.NumPrompts)
	for i := range out {
		prefix := fmt.Sprintf("%d:", i)
		var text string
		if pool == nil {
			text = estimateText(r, prefix, target)
		} else {
			var err error
			if text, err = exactText(tok, pool, r, prefix, target); err != nil {
				return nil, fmt.Errorf("random: prompt %d: %w", i, err)
			}
		}
		out[i] = Request{Index: i, Prompt: text, PromptTokens: spec.InputTokens, MaxTokens: spec.OutputTokens, OutputSource: OutputRandom}
	}
	return out, nil
}

// exactText grows prefix with random pool tokens, or cuts it, until it
// encodes to exactly target tokens. Like vLLM's
// gen_prompt_decode_to_target_len it re-encodes after each decode, because n
// tokens decoded need not encode back to n; unlike it, a count that will not
// settle is an error rather than a prompt of another length.
func exactText(tok Tokenizer, pool []int, r *rng, prefix string, target int) (string, error) {
	text := prefix
	for range 32 {
		ids := tok.Encode(text)
		switch n := len(ids); {
		case n == target:
			return text, nil
		case n > target:
			text = tok.Decode(ids[:target])
		default:
			extra := make([]int, target-n)
			for k := range extra {
				extra[k] = pool[r.intn(len(pool))]
			}
			text += tok.Decode(extra)
		}
	}
	return "", fmt.Errorf("could not build a prompt of exactly %d tokens", target)
}

// estimateText is words after prefix, cut to exactly 4×target bytes (ASCII),
// which Estimate counts as target tokens.
func estimateText(r *rng, prefix string, target int) string {
	n := 4 * target
	var sb strings.Builder
	sb.WriteString(prefix)
	for sb.Len() < n {
		sb.WriteByte(' ')
		sb.WriteString(estimateWords[r.intn(len(estimateWords))])
	}
	return sb.String()[:n]
}

var estimateWords = strings.Fields(`time year people way day man thing woman life child world school
state family student group country problem hand part place case week company system program question
work government number night point home water room mother area money story fact month lot right study
book eye job word business issue side kind head house service friend father power hour game line end
member law car city community name president team minute idea kid body information back parent face
others level office door health person art war history party result change morning reason research`)

// wordPool is the vocabulary's space-led ASCII words (" the", " house") that
// encode back to themselves alone, so that a run of them counts one token
// each under every supported pre-tokenizer. A vocabulary without any falls
// back to its single-letter byte tokens, which exactText then adjusts.
func (t *BPE) wordPool() []int {
	t.poolOnce.Do(func() {
		for id, s := range t.idToToken {
			if t.addedIDs[id] || !strings.HasPrefix(s, "Ġ") || len(s) == len("Ġ") || !isASCIILetters(s[len("Ġ"):]) {
				continue
			}
			if ids := t.Encode(t.Decode([]int{id})); len(ids) == 1 && ids[0] == id {
				t.pool = append(t.pool, id)
			}
		}
		if len(t.pool) == 0 {
			for c := 'a'; c <= 'z'; c++ {
				if t.byteID[c] >= 0 {
					t.pool = append(t.pool, int(t.byteID[c]))
				}
			}
		}
	})
	return t.pool
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// poolState is embedded in BPE for wordPool.
type poolState struct {
	poolOnce sync.Once
	pool     []int
}
