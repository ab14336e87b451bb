package workload

import (
	"os"
	"sync"
	"time"
)

// Tokenizer turns text into token ids and back. Prompt and output lengths in a
// workload are counted with one, so that they mean what the server means.
type Tokenizer interface {
	Encode(string) []int
	Decode([]int) string
}

// Token sources, as Set.TokenSource and Counter.Source report them.
const (
	SourceTokenizer = "tokenizer" // the model's tokenizer.json (BPE)
	SourceEstimate  = "estimate"  // Estimate
)

// Estimate is the stand-in when no tokenizer.json is given: one token per 4
// bytes of UTF-8, rounded up (ceil(len(s)/4)), the usual ~4 characters per
// token of English BPE text. It is only an estimate (code and non-Latin text
// run denser), which is why every result says which source was used. Its ids
// are the 4-byte chunks themselves, packed with their length into one int
// (a 64-bit int is assumed), so Decode(Encode(s)) == s.
type Estimate struct{}

// Encode cuts s into 4-byte chunks.
func (Estimate) Encode(s string) []int {
	ids := make([]int, 0, (len(s)+3)/4)
	for i := 0; i < len(s); i += 4 {
		chunk := s[i:min(i+4, len(s))]
		id := uint64(len(chunk)) << 32
		for j := range len(chunk) {
			id |= uint64(chunk[j]) << (8 * j)
		}
		ids = append(ids, int(id))
	}
	return ids
}

// Decode joins the chunks back; ids that Encode cannot have made are skipped.
func (Estimate) Decode(ids []int) string {
	var b []byte
	for _, id := range ids {
		u := uint64(id)
		n := int(u >> 32)
		if n < 1 || n > 4 {
			continue
		}
		for j := range n {
			b = append(b, byte(u>>(8*j)))
		}
	}
	return string(b)
}

// numSpecials is how many special tokens a server adds to a prompt of t: the
// post-processor's for a tokenizer.json, none for the estimate.
func numSpecials(t Tokenizer) int {
	if s, ok := t.(interface{ NumSpecialTokens() int }); ok {
		return s.NumSpecialTokens()
	}
	return 0
}

// Counter counts the tokens of generated text, for when a server reports no
// usage. Count holds no special tokens: it is the output's own length.
type Counter struct {
	tok    Tokenizer
	Source string // SourceTokenizer or SourceEstimate
}

// NewCounter loads the tokenizer.json at path, or uses the estimate when path
// is "".
func NewCounter(path string) (*Counter, error) {
	t, src, err := loadTokenizer(path)
	if err != nil {
		return nil, err
	}
	return &Counter{tok: t, Source: src}, nil
}

// Count is the number of tokens in text. It is safe for concurrent use.
func (c *Counter) Count(text string) int { return len(c.tok.Encode(text)) }

// Tokenizer is what Count uses.
func (c *Counter) Tokenizer() Tokenizer { return c.tok }

// loaded keeps parsed tokenizers: a Llama 3 tokenizer.json is 9 MB, and a
// benchmark asks for it twice (Generate and NewCounter).
var loaded struct {
	sync.Mutex
	m map[string]cachedBPE
}

type cachedBPE struct {
	size int64
	mod  time.Time
	t    *BPE
}

func loadTokenizer(path string) (Tokenizer, string, error) {
	if path == "" {
		return Estimate{}, SourceEstimate, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	loaded.Lock()
	defer loaded.Unlock()
	if c, ok := loaded.m[path]; ok && c.size == fi.Size() && c.mod.Equal(fi.ModTime()) {
		return c.t, SourceTokenizer, nil
	}
	t, err := LoadBPE(path)
	if err != nil {
		return nil, "", err
	}
	if loaded.m == nil {
		loaded.m = map[string]cachedBPE{}
	}
	loaded.m[path] = cachedBPE{fi.Size(), fi.ModTime(), t}
	return t, SourceTokenizer, nil
}
