package pipeline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/workload"
)

// TestGenerate: warmup requests come first in one generated sequence, the
// measured ones are numbered from 0, and one spec and warmup always give
// one sequence hash (the one the bench and the prediction both record).
func TestGenerate(t *testing.T) {
	spec := workload.Spec{Kind: "random", NumPrompts: 12, InputTokens: 32, OutputTokens: 8, Seed: 7}
	base, err := Generate(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		warmup int
	}{{"no warmup", 0}, {"one", 1}, {"four", 4}} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Generate(spec, c.warmup)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Warmup) != c.warmup || len(s.Measured) != spec.NumPrompts {
				t.Fatalf("%d warmup, %d measured", len(s.Warmup), len(s.Measured))
			}
			for i, p := range s.Measured {
				if p.Index != i {
					t.Errorf("measured request %d has index %d", i, p.Index)
				}
			}
			again, _ := Generate(spec, c.warmup)
			if again.Set.SHA256 != s.Set.SHA256 {
				t.Error("the same spec gave two sequence hashes")
			}
			if c.warmup > 0 && s.Measured[0].Text == base.Measured[0].Text && s.Set.SHA256 == base.Set.SHA256 {
				t.Error("warmup did not change the generated sequence")
			}
		})
	}
	if _, err := Generate(spec, -1); err == nil {
		t.Error("negative warmup accepted")
	}
	spec.NumPrompts = 0
	if _, err := Generate(spec, 0); err == nil {
		t.Error("zero measured requests accepted")
	}
}

func TestEncodePrompts(t *testing.T) {
	s, err := Generate(workload.Spec{Kind: "random", NumPrompts: 3, InputTokens: 16, OutputTokens: 5, Seed: 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodePrompts(s.Measured, "sharegpt")
	if err != nil {
		t.Fatal(err)
	}
	var convs []struct {
		Conversations []struct{ From, Value string } `json:"conversations"`
	}
	if err := json.Unmarshal(b, &convs); err != nil || len(convs) != 3 || convs[0].Conversations[0].Value != s.Measured[0].Text {
		t.Errorf("sharegpt: %v %d conversations", err, len(convs))
	}
	b, err = EncodePrompts(s.Measured, "jsonl")
	if err != nil || strings.Count(string(b), "\n") != 3 || !strings.Contains(string(b), `"max_tokens":5`) {
		t.Errorf("jsonl: %v\n%s", err, b)
	}
	if _, err := EncodePrompts(s.Measured, "csv"); err == nil {
		t.Error("an unknown format accepted")
	}
}
