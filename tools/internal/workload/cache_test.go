package workload

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGenerateCached: a second generation comes from the cache and is the
// same sequence; another build, spec or tokenizer is another key; an entry
// that no longer matches its sha256 is rebuilt, not used.
func TestGenerateCached(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Kind: "random", NumPrompts: 20, Seed: 3, InputTokens: 16, OutputTokens: 4}
	first, err := GenerateCached(spec, dir, "build-a")
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(entries) != 1 {
		t.Fatalf("%d cache entries, want 1", len(entries))
	}
	again, err := GenerateCached(spec, dir, "build-a")
	if err != nil || !reflect.DeepEqual(first, again) {
		t.Fatalf("the cached sequence differs from the built one: %v", err)
	}
	direct, _ := Generate(spec)
	if !reflect.DeepEqual(first, direct) {
		t.Fatal("GenerateCached built another sequence than Generate")
	}
	other := spec
	other.Seed = 4
	for _, k := range []string{CacheKey(spec, "build-b"), CacheKey(other, "build-a")} {
		if k == CacheKey(spec, "build-a") {
			t.Error("a different build or spec gave the same key")
		}
	}
	// A corrupted entry: the sequence no longer hashes to its sha256.
	b, _ := os.ReadFile(entries[0])
	b[len(b)-10] ^= 1
	if err := os.WriteFile(entries[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readCached(entries[0]); err == nil {
		t.Fatal("a corrupted entry was read as good")
	}
	rebuilt, err := GenerateCached(spec, dir, "build-a")
	if err != nil || !reflect.DeepEqual(first, rebuilt) {
		t.Fatalf("a corrupted entry was not rebuilt: %v", err)
	}
}
