package pipeline

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const bos = 1

// wordIDs is the stand-in tokenizer: one id per word.
func wordIDs(text string) []int {
	var ids []int
	for _, w := range strings.Fields(text) {
		h := fnv.New32a()
		h.Write([]byte(w))
		ids = append(ids, 10+int(h.Sum32()%1000))
	}
	return ids
}

// standIn is a local completions server with the stand-in tokenizer. Like
// vLLM with a Llama tokenizer it adds BOS to a prompt sent as text and
// takes a prompt sent as ids as it is; the hostile variants break one of
// those or the response.
func standIn(t *testing.T, variant string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Prompt json.RawMessage `json:"prompt"`
			Echo   bool            `json:"echo"`
		}
		if r.URL.Path != "/v1/completions" || json.NewDecoder(r.Body).Decode(&req) != nil || !req.Echo {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if variant == "500" {
			http.Error(w, "engine dead", http.StatusInternalServerError)
			return
		}
		var text string
		var ids []int
		if json.Unmarshal(req.Prompt, &text) == nil {
			ids = append([]int{bos}, wordIDs(text)...)
		} else if json.Unmarshal(req.Prompt, &ids) != nil {
			http.Error(w, "prompt is neither text nor ids", http.StatusBadRequest)
			return
		} else if variant == "bos on ids too" {
			ids = append([]int{bos}, ids...)
		}
		lps := make([]*float64, len(ids)+1) // the prompt's and one generated token's
		if variant == "short echo" {
			lps = lps[:len(ids)-1]
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"choices": []any{map[string]any{"text": "x", "logprobs": map[string]any{"token_logprobs": lps}}},
			"usage":   map[string]int{"prompt_tokens": len(ids), "completion_tokens": 1},
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// lmEvalCounts stands in for lm-eval's tokenizer, with or without BOS.
func lmEvalCounts(withBOS bool) ContextTokens {
	return func(_ context.Context, texts []string) ([][]int, error) {
		out := make([][]int, len(texts))
		for i, s := range texts {
			out[i] = wordIDs(s)
			if withBOS {
				out[i] = append([]int{bos}, out[i]...)
			}
		}
		return out, nil
	}
}

// TestCheckTokenCounts: the check fails against a server that adds a BOS
// lm-eval did not count, passes once lm-eval counts it, and fails on a
// server that rewrites id prompts or answers without the echoed
// log-probabilities lm-eval slices.
func TestCheckTokenCounts(t *testing.T) {
	tests := []struct {
		name, variant string
		lmEvalBOS     bool
		wantErr       string
	}{
		{"server adds a BOS lm-eval does not count", "", false, "the server 11"},
		{"counts agree, BOS included", "", true, ""},
		{"server adds a BOS to id prompts as well", "bos on ids too", true, "the server scored"},
		{"server echoes too few log-probabilities", "short echo", true, "echoed"},
		{"server error", "500", true, "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTokenCounts(context.Background(), http.DefaultClient, standIn(t, tt.variant), "m", lmEvalCounts(tt.lmEvalBOS))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
