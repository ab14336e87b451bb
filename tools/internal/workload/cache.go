package workload

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// A large level's sequence can take a minute to build (100,000 prompts of
// exactly 256 Llama 3 tokens: 60 s of encoding and re-encoding) and is the
// same every time its inputs are. GenerateCached keeps each built sequence
// in a cache keyed by everything it is a function of: the spec, the bytes
// of its dataset and tokenizer files, and the build of Forge that generated
// it (a generator that changed gives another key, never a stale sequence).
// A hit is checked against the sequence's own sha256 before it is used.

// CacheKey is the key of spec's sequence for the generator build, or ""
// when a file it names cannot be read (Generate then reports the error).
func CacheKey(spec Spec, build string) string {
	h := sha256.New()
	fmt.Fprintf(h, "forge.workload.sequence/v1\x00%s\x00%s\x00%d\x00%d\x00%d\x00%d\x00", build, spec.Kind, spec.NumPrompts, spec.Seed, spec.InputTokens, spec.OutputTokens)
	for _, p := range []string{spec.Dataset, spec.Tokenizer} {
		if p == "" {
			h.Write([]byte("-\x00"))
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return ""
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return ""
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cachedSet is a cache entry's header; the requests follow it, one JSON
// line each, as WriteJSONL writes them.
type cachedSet struct {
	TokenSource   string         `json:"token_source"`
	SHA256        string         `json:"sha256"`
	DatasetSHA256 string         `json:"dataset_sha256"`
	Skipped       map[string]int `json:"skipped"`
}

// GenerateCached is Generate through the cache in dir (build names the
// generator; "" or dir "" bypasses the cache). A failure to write the
// cache only costs the next run its time; it is not an error.
func GenerateCached(spec Spec, dir, build string) (*Set, error) {
	key := ""
	if dir != "" && build != "" {
		key = CacheKey(spec, build)
	}
	if key == "" {
		return Generate(spec)
	}
	path := filepath.Join(dir, key+".jsonl")
	if set, err := readCached(path); err == nil {
		return set, nil
	}
	set, err := Generate(spec)
	if err != nil {
		return nil, err
	}
	_ = writeCached(path, set)
	return set, nil
}

func readCached(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	var head cachedSet
	if err := dec.Decode(&head); err != nil {
		return nil, err
	}
	set := &Set{TokenSource: head.TokenSource, DatasetSHA256: head.DatasetSHA256, Skipped: head.Skipped, SHA256: head.SHA256}
	for dec.More() {
		var r Request
		if err := dec.Decode(&r); err != nil {
			return nil, err
		}
		set.Requests = append(set.Requests, r)
	}
	h := sha256.New()
	if err := WriteJSONL(h, set.Requests); err != nil {
		return nil, err
	}
	if hex.EncodeToString(h.Sum(nil)) != head.SHA256 || len(set.Requests) == 0 {
		return nil, fmt.Errorf("%s: the cached sequence does not match its sha256", path)
	}
	if set.Skipped == nil {
		set.Skipped = map[string]int{}
	}
	return set, nil
}

// writeCached writes the entry beside its final name and renames it, so a
// reader never sees half of one.
func writeCached(path string, set *Set) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	head, err := json.Marshal(cachedSet{TokenSource: set.TokenSource, SHA256: set.SHA256, DatasetSHA256: set.DatasetSHA256, Skipped: set.Skipped})
	if err != nil {
		return err
	}
	buf.Write(append(head, '\n'))
	if err := WriteJSONL(&buf, set.Requests); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".seq-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
