package workload

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Small helpers of the BPE: the merge queue, the word cache, the byte
// alphabet and lossy UTF-8 decoding.

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

type mergeItem struct{ rank, pos, id int32 }

// mergeHeap is a binary min-heap on (rank, pos).
type mergeHeap []mergeItem

func (m mergeItem) less(o mergeItem) bool {
	return m.rank < o.rank || m.rank == o.rank && m.pos < o.pos
}

func (h *mergeHeap) push(x mergeItem) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() mergeItem {
	s := *h
	top := s[0]
	s[0] = s[len(s)-1]
	s = s[:len(s)-1]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(s) {
			break
		}
		if c+1 < len(s) && s[c+1].less(s[c]) {
			c++
		}
		if !s[c].less(s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// wordCache remembers the ids of recent words; prompts repeat words a lot. It
// is safe for the concurrent Count calls of a benchmark's workers.
type wordCache struct {
	mu sync.Mutex
	m  map[string][]int
}

const wordCacheMax = 1 << 16

func newWordCache() *wordCache { return &wordCache{m: map[string][]int{}} }

func (c *wordCache) get(w string) ([]int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids, ok := c.m[w]
	return ids, ok
}

func (c *wordCache) put(w string, ids []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= wordCacheMax {
		clear(c.m)
	}
	c.m[w] = ids
}

// lossyUTF8 replaces each maximal ill-formed subsequence with one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[:n])
			b = b[n:]
			continue
		}
		sb.WriteRune(utf8.RuneError)
		b = b[invalidLen(b):]
	}
	return sb.String()
}

// invalidLen is the length of the maximal subpart at the start of b: the lead
// byte and the continuation bytes that could still have been valid.
func invalidLen(b []byte) int {
	lo, hi, need := byte(0x80), byte(0xBF), 0
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		lo, need = 0xA0, 2
	case c == 0xED:
		hi, need = 0x9F, 2
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		lo, need = 0x90, 3
	case c == 0xF4:
		hi, need = 0x8F, 3
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b) && b[i] >= lo && b[i] <= hi; i++ {
		lo, hi = 0x80, 0xBF
	}
	return i
}
