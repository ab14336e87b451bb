// Package workload builds the deterministic request sequence a benchmark
// sends: the same Spec gives the same prompts, lengths and hash on every
// machine, so two results can be compared request for request.
//
// Three kinds, after `vllm bench serve`'s datasets (vLLM 0.11,
// vllm/benchmarks/datasets.py):
//
//   - sharegpt: ShareGPTDataset's rules (first human prompt and first gpt
//     reply, seeded shuffle, is_valid_sequence's length filters, max_tokens =
//     reply length). The rules match vLLM; the selection does not, because
//     vLLM shuffles with Python's random and this package with a PCG.
//   - random: RandomDataset with range_ratio 0 (every prompt exactly
//     InputTokens tokens, every output OutputTokens).
//   - jsonl: a prompt per line, like vLLM's custom dataset.
//
// Lengths are counted with the model's tokenizer.json when one is given, else
// with Estimate; Set.TokenSource says which.
package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
)

// Request is one prompt of the sequence. Its JSON form, one per line in
// order, is what Set.SHA256 hashes.
type Request struct {
	Index        int    `json:"index"`
	Prompt       string `json:"prompt"`
	PromptTokens int    `json:"prompt_tokens"` // as counted by the TokenSource, special tokens included
	MaxTokens    int    `json:"max_tokens"`    // output length requested
	OutputSource string `json:"output_source"` // OutputReference, OutputFixed or OutputRandom
}

// Where a request's MaxTokens came from.
const (
	OutputReference = "reference" // the data: a ShareGPT reply's length, a JSONL line's max_tokens
	OutputFixed     = "fixed"     // Spec.OutputTokens, for data without one
	OutputRandom    = "random"    // the random workload's Spec.OutputTokens
)

// Spec says which sequence to build.
type Spec struct {
	Kind         string // "random" | "sharegpt" | "jsonl"
	Dataset      string // file path for sharegpt/jsonl
	NumPrompts   int
	Seed         int64
	InputTokens  int    // random: exact prompt length; unused otherwise
	OutputTokens int    // random: exact output length; sharegpt without a reply, jsonl without max_tokens: the output length (0: such entries are an error or skipped)
	Tokenizer    string // path to a HuggingFace tokenizer.json; "" → Estimate
}

// Set is the built sequence and what identifies it.
type Set struct {
	Requests      []Request
	TokenSource   string         // SourceTokenizer or SourceEstimate
	SHA256        string         // of the canonical JSON Lines of Requests (WriteJSONL), lowercase hex
	DatasetSHA256 string         // of the dataset file; "" for random
	Skipped       map[string]int // sharegpt: entries each rule dropped before NumPrompts were found
}

// Generate builds the sequence for spec.
func Generate(spec Spec) (*Set, error) {
	if spec.NumPrompts < 1 {
		return nil, fmt.Errorf("NumPrompts must be at least 1, got %d", spec.NumPrompts)
	}
	if spec.OutputTokens < 0 || spec.InputTokens < 0 {
		return nil, fmt.Errorf("InputTokens and OutputTokens must not be negative")
	}
	tok, src, err := loadTokenizer(spec.Tokenizer)
	if err != nil {
		return nil, err
	}
	set := &Set{TokenSource: src, Skipped: map[string]int{}}
	switch spec.Kind {
	case "random":
		if spec.Dataset != "" {
			return nil, fmt.Errorf("random: takes no dataset (got %s)", spec.Dataset)
		}
		set.Requests, err = randomRequests(spec, tok)
	case "sharegpt", "jsonl":
		if spec.Dataset == "" {
			return nil, fmt.Errorf("%s: needs a dataset file", spec.Kind)
		}
		err = fromFile(spec, tok, set)
	default:
		return nil, fmt.Errorf("unknown workload kind %q (random, sharegpt or jsonl)", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if err := WriteJSONL(h, set.Requests); err != nil {
		return nil, err
	}
	set.SHA256 = hex.EncodeToString(h.Sum(nil))
	return set, nil
}

func fromFile(spec Spec, tok Tokenizer, set *Set) error {
	b, err := readFile(spec.Dataset)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(b)
	set.DatasetSHA256 = hex.EncodeToString(sum[:])
	if spec.Kind == "sharegpt" {
		set.Requests, err = sampleShareGPT(spec, b, tok, set.Skipped)
	} else {
		set.Requests, err = sampleJSONL(spec, b, tok)
	}
	return err
}

// WriteJSONL writes the canonical form of a sequence: each Request as
// encoding/json writes it (fields in struct order), one per line. It is what
// Set.SHA256 hashes, and a file a run can keep beside its results.
func WriteJSONL(w io.Writer, reqs []Request) error {
	for _, r := range reqs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// rng draws from a PCG seeded by Spec.Seed. Bounded draws and the shuffle are
// written out here (Lemire's method, Fisher-Yates from the top) rather than
// taken from rand.Rand, so the sequence depends only on PCG's output, which
// math/rand/v2 specifies, and not on how a Go release implements Shuffle.
type rng struct{ p *rand.PCG }

// Streams keep the kinds' draws apart for one seed.
const (
	streamShuffle uint64 = 0x5ea5_0001
	streamRandom  uint64 = 0x5ea5_0002
)

func newRNG(seed int64, stream uint64) *rng { return &rng{rand.NewPCG(uint64(seed), stream)} }

// intn is uniform in [0, n), n > 0.
func (r *rng) intn(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.p.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.p.Uint64(), un)
		}
	}
	return int(hi)
}

// perm is a seeded permutation of [0, n).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
