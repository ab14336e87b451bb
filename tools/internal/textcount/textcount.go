// Package textcount measures a workload's text the way each provider bills
// it: characters, and tokens under each tokenizer Forge can count offline.
// $/1M tokens is not one currency across providers (the same text is more
// or fewer tokens depending on the vocabulary), so the cost model compares
// prices per request of the workload and per 1M characters of its text,
// converting with the counts recorded here (text.json, forge.text.record/v1).
package textcount

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"

	"github.com/forge-bench/forge/schemas"
)

// Self names the served model's own tokenizer: the workload's own counts.
const Self = "self"

// O200kBase is OpenAI's encoding for GPT-4o and later, counted with
// tiktoken-go and the BPE ranks embedded in tiktoken-go-loader v0.0.2, whose
// o200k_base.tiktoken has the sha256 OpenAI's tiktoken expects
// (446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d), so
// no machine downloads anything.
const O200kBase = "o200k_base"

// O200kSource is how O200kBase counts are made, for the record.
const O200kSource = "tiktoken-go v0.1.8, ranks from tiktoken-go-loader v0.0.2 (o200k_base.tiktoken sha256 446a9538cb6c…)"

// Counted are the tokenizers Forge counts itself.
var Counted = []string{Self, O200kBase}

// Record is text.json: the measured requests' prompts under each tokenizer.
type Record struct {
	Schema                string      `json:"schema"`
	RunID                 string      `json:"run_id"`
	Experiment            string      `json:"experiment"`
	RequestSequenceSHA256 string      `json:"request_sequence_sha256"`
	DatasetSHA256         *string     `json:"dataset_sha256"`
	Requests              int         `json:"requests"`
	PromptChars           int         `json:"prompt_chars"`
	Tokenizers            []Tokenizer `json:"tokenizers"`
}

// Tokenizer is one tokenizer's count of all the prompts.
type Tokenizer struct {
	Name   string `json:"name"`
	Tokens int    `json:"tokens"`
	Source string `json:"source"`
	// Estimated marks a count that is not a tokenizer's: the workload's
	// estimate when the served model's tokenizer files are not at hand.
	Estimated bool `json:"estimated,omitempty"`
}

// Prompt is one measured request's text and the workload's own count of it.
type Prompt struct {
	Text       string
	SelfTokens int
}

var (
	o200kOnce sync.Once
	o200k     *tiktoken.Tiktoken
	o200kErr  error
)

func o200kEncoding() (*tiktoken.Tiktoken, error) {
	o200kOnce.Do(func() {
		tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
		o200k, o200kErr = tiktoken.GetEncoding(O200kBase)
	})
	return o200k, o200kErr
}

// Count is the number of o200k_base tokens in text (special tokens counted
// as text, as an API counts a user's message).
func Count(text string) (int, error) {
	enc, err := o200kEncoding()
	if err != nil {
		return 0, fmt.Errorf("o200k_base: %w", err)
	}
	return len(enc.EncodeOrdinary(text)), nil
}

// Measure counts the prompts; selfSource says how the workload counted its
// own tokens, selfEstimated whether that was an estimate.
func Measure(prompts []Prompt, selfSource string, selfEstimated bool) (Record, error) {
	r := Record{Schema: schemas.TextRecord, Requests: len(prompts)}
	self, other := 0, 0
	for _, p := range prompts {
		r.PromptChars += utf8.RuneCountInString(p.Text)
		self += p.SelfTokens
		n, err := Count(p.Text)
		if err != nil {
			return Record{}, err
		}
		other += n
	}
	r.Tokenizers = []Tokenizer{{Name: Self, Tokens: self, Source: selfSource, Estimated: selfEstimated}, {Name: O200kBase, Tokens: other, Source: O200kSource}}
	return r, nil
}

// TokensOf is a tokenizer's count in the record, false when not counted.
func (r Record) TokensOf(name string) (int, bool) {
	t, ok := r.tokenizer(name)
	return t.Tokens, ok
}

// Estimated says whether a tokenizer's count in the record is an estimate.
func (r Record) Estimated(name string) bool {
	t, _ := r.tokenizer(name)
	return t.Estimated
}

func (r Record) tokenizer(name string) (Tokenizer, bool) {
	for _, t := range r.Tokenizers {
		if t.Name == name {
			return t, true
		}
	}
	return Tokenizer{}, false
}

// Encode is the record's canonical JSON, checked against its schema.
func Encode(r Record) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if f, err := schemas.ValidateJSON(schemas.TextRecord, b); err != nil || len(f) > 0 {
		return nil, fmt.Errorf("internal error: text record does not match its schema: %v %v", f, err)
	}
	return b, nil
}

// Read loads a text.json; ok is false when there is none (a workload of
// synthetic tokens, or a run recorded before Forge wrote one).
func Read(path string) (Record, bool, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return r, true, nil
}
