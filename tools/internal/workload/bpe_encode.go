package workload

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// Encode returns the token ids of s as HuggingFace tokenizers'
// encode(s, add_special_tokens=False) gives them: added tokens are cut out
// first (leftmost-longest), the rest is normalized, pre-tokenized and merged
// word by word. Invalid UTF-8 in s is read as U+FFFD, as Python would have
// refused it.
func (t *BPE) Encode(s string) []int {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var out []int
	t.eachSegment(s, func(plain string, id int) {
		if plain == "" {
			out = append(out, id)
			return
		}
		for _, f := range t.norm {
			plain = f.String(plain)
		}
		for _, w := range t.preTokenize(plain) {
			out = t.appendWord(out, w)
		}
	})
	return out
}

// NumSpecialTokens is how many special tokens (Llama 3: <|begin_of_text|>)
// the post-processor adds to one sequence. vLLM's benchmark counts them: its
// tokenizer(prompt).input_ids is Encode plus these.
func (t *BPE) NumSpecialTokens() int { return t.specials }

// Decode maps ids back to text as the ByteLevel decoder does; unknown ids are
// skipped and bytes that are not valid UTF-8 become U+FFFD (one per maximal
// ill-formed subsequence, like Rust's from_utf8_lossy).
func (t *BPE) Decode(ids []int) string {
	var buf []byte
	for _, id := range ids {
		if id < 0 || id >= len(t.idToToken) || t.idToToken[id] == "" {
			continue
		}
		tok, start, ok := t.idToToken[id], len(buf), true
		for _, r := range tok {
			b, in := byteDec[r]
			if !in {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok { // a token outside the byte alphabet (an added token) stands for itself
			buf = append(buf[:start], tok...)
		}
	}
	return lossyUTF8(buf)
}

// eachSegment cuts s at added tokens and calls fn with each plain stretch
// (id -1) or each added token (plain "").
func (t *BPE) eachSegment(s string, fn func(plain string, id int)) {
	last := 0
	for i := 0; i < len(s); {
		a, ok := t.matchAdded(s, i)
		if !ok {
			i++
			continue
		}
		start, end := i, i+len(a.content)
		for a.lstrip && start > last {
			r, n := utf8.DecodeLastRuneInString(s[last:start])
			if !unicode.IsSpace(r) {
				break
			}
			start -= n
		}
		for a.rstrip && end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if !unicode.IsSpace(r) {
				break
			}
			end += n
		}
		if start > last {
			fn(s[last:start], -1)
		}
		fn("", a.id)
		last, i = end, end
	}
	if last < len(s) {
		fn(s[last:], -1)
	}
}

func (t *BPE) matchAdded(s string, i int) (addedToken, bool) {
	for _, a := range t.added[s[i]] {
		if !strings.HasPrefix(s[i:], a.content) {
			continue
		}
		if a.singleWord {
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[i+len(a.content):])
			if i > 0 && isWordChar(before) || i+len(a.content) < len(s) && isWordChar(after) {
				continue
			}
		}
		return a, true
	}
	return addedToken{}, false
}

func isWordChar(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// preTokenize applies the Split/Digits steps and then ByteLevel's own split;
// the pieces stay raw bytes (the byte-to-symbol mapping is implicit in byteID).
func (t *BPE) preTokenize(text string) []string {
	pieces := []string{text}
	for _, st := range t.steps {
		var next []string
		for _, p := range pieces {
			if st.re != nil {
				next = splitIsolated(st.re, p, next)
			} else {
				next = splitDigits(p, st.individual, next)
			}
		}
		pieces = next
	}
	var out []string
	for _, p := range pieces {
		if t.prefixSpace && !strings.HasPrefix(p, " ") {
			p = " " + p
		}
		if t.byteRegex {
			out = splitIsolated(gpt2Regexp, p, out)
		} else if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitIsolated is SplitDelimiterBehavior::Isolated: each match is a piece, and
// so is each stretch between matches.
func splitIsolated(re *regexp2.Regexp, s string, out []string) []string {
	rs := []rune(s)
	last := 0
	m, _ := re.FindRunesMatch(rs) // no timeout is set, so no error
	for m != nil {
		if m.Index > last {
			out = append(out, string(rs[last:m.Index]))
		}
		if m.Length > 0 {
			out = append(out, string(rs[m.Index:m.Index+m.Length]))
		}
		last = m.Index + m.Length
		m, _ = re.FindNextMatch(m)
	}
	if last < len(rs) {
		out = append(out, string(rs[last:]))
	}
	return out
}

// splitDigits is the Digits pre-tokenizer: runs of numeric characters (or each
// one, when individual) become pieces of their own.
func splitDigits(s string, individual bool, out []string) []string {
	start, inDigits := 0, false
	for i, r := range s {
		d := unicode.IsNumber(r)
		if i > start && (d != inDigits || d && individual) {
			out = append(out, s[start:i])
			start = i
		}
		inDigits = d
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// appendWord appends the BPE ids of one pre-token (raw bytes).
func (t *BPE) appendWord(out []int, w string) []int {
	if ids, ok := t.cache.get(w); ok {
		return append(out, ids...)
	}
	ids := t.mergeWord(w)
	t.cache.put(w, ids)
	return append(out, ids...)
}

// mergeWord starts from one symbol per byte and applies the lowest-ranked
// merge first (leftmost on ties), as tokenizers' Word::merge_all does.
func (t *BPE) mergeWord(w string) []int {
	if t.ignoreMerge {
		var sb strings.Builder
		for i := 0; i < len(w); i++ {
			sb.WriteRune(byteEnc[w[i]])
		}
		if id, ok := t.vocab[sb.String()]; ok {
			return []int{id}
		}
	}
	type sym struct{ id, prev, next int32 }
	syms := make([]sym, 0, len(w))
	for i := 0; i < len(w); i++ {
		id := t.byteID[w[i]]
		switch {
		case id >= 0:
		case t.fallbackID[w[i]] >= 0:
			id = t.fallbackID[w[i]]
		case t.unkID >= 0:
			if t.fuseUnk && i > 0 && t.byteID[w[i-1]] < 0 && t.fallbackID[w[i-1]] < 0 {
				continue // fused into the previous unk
			}
			id = t.unkID
		default:
			continue
		}
		n := int32(len(syms))
		syms = append(syms, sym{id, n - 1, n + 1})
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1].next = -1
	var h mergeHeap
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := t.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h.push(mergeItem{m.rank, int32(i), m.id})
		}
	}
	for len(h) > 0 {
		it := h.pop()
		l := &syms[it.pos]
		if l.id < 0 || l.next < 0 {
			continue
		}
		r := &syms[l.next]
		if m, ok := t.merges[pairKey(l.id, r.id)]; !ok || m.id != it.id {
			continue // stale: one side was merged since this was queued
		}
		l.id, l.next, r.id = it.id, r.next, -1
		if l.next >= 0 {
			syms[l.next].prev = it.pos
			if m, ok := t.merges[pairKey(l.id, syms[l.next].id)]; ok {
				h.push(mergeItem{m.rank, it.pos, m.id})
			}
		}
		if l.prev >= 0 {
			if m, ok := t.merges[pairKey(syms[l.prev].id, l.id)]; ok {
				h.push(mergeItem{m.rank, l.prev, m.id})
			}
		}
	}
	var ids []int
	for i := int32(0); i >= 0; i = syms[i].next {
		ids = append(ids, int(syms[i].id))
	}
	return ids
}
