package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/proc"
)

// TokenProbes are the texts the token-count check sends: an instruction, a
// few-shot style prompt, and digits, punctuation and non-ASCII text. A BOS
// the server adds does not depend on the text; several texts also catch a
// tokenizer that differs from the server's only on some input.
var TokenProbes = []string{
	"The following are multiple choice questions (with answers) about anatomy.",
	"Question: Natalia sold clips to 48 of her friends in April.\nAnswer:",
	"Ünïcödé – テスト, 123.45 and $6,789!",
}

// ContextTokens returns, for each text, the token ids lm-eval's tokenizer
// gives it with lm-eval's settings: what lm-eval counts and sends.
type ContextTokens func(ctx context.Context, texts []string) ([][]int, error)

// CheckTokenCounts compares lm-eval's context length with the server's, on
// the probe texts, before any task runs. lm-eval slices the echoed prompt
// log-probabilities at the context length it counted; if the server scores
// a different number of tokens (a BOS lm-eval did not count, another
// tokenizer), every continuation's log-likelihood is summed over the wrong
// tokens, silently. Two checks per text:
//   - the text sent as text: the server's usage.prompt_tokens equals
//     lm-eval's count, so lm-eval's tokens are the ones the model gets for
//     that text, BOS included;
//   - lm-eval's ids sent as ids, as lm-eval sends them: the server scores
//     exactly those (prompt_tokens and echoed log-probabilities agree).
func CheckTokenCounts(ctx context.Context, client *http.Client, base, model string, lmEval ContextTokens) error {
	ids, err := lmEval(ctx, TokenProbes)
	if err != nil {
		return fmt.Errorf("token-count check: lm-eval's tokenizer: %w", err)
	}
	if len(ids) != len(TokenProbes) {
		return fmt.Errorf("token-count check: lm-eval's tokenizer gave %d token lists for %d texts", len(ids), len(TokenProbes))
	}
	for i, text := range TokenProbes {
		got, _, err := echoPrompt(ctx, client, base, model, text)
		if err != nil {
			return fmt.Errorf("token-count check: %w", err)
		}
		if got != len(ids[i]) {
			return fmt.Errorf("token-count check failed: lm-eval counts %d tokens in %q, the server %d. lm-eval would slice every continuation's log-probabilities %d token(s) off (a BOS the server adds and lm-eval does not count, or another tokenizer than the server's), and every log-likelihood score would be wrong; the eval is not run",
				len(ids[i]), text, got, abs(got-len(ids[i])))
		}
		got, echoed, err := echoPrompt(ctx, client, base, model, ids[i])
		if err != nil {
			return fmt.Errorf("token-count check: %w", err)
		}
		if got != len(ids[i]) || echoed != len(ids[i])+1 {
			return fmt.Errorf("token-count check failed: sent %d token ids, the server scored %d and echoed %d log-probabilities (want %d and %d); lm-eval's slices would be off, the eval is not run",
				len(ids[i]), got, echoed, len(ids[i]), len(ids[i])+1)
		}
	}
	return nil
}

// echoPrompt sends one prompt as lm-eval's local-completions sends a
// log-likelihood request (echo, logprobs 1, one token) and returns the
// server's usage.prompt_tokens and how many token log-probabilities it
// echoed.
func echoPrompt(ctx context.Context, client *http.Client, base, model string, prompt any) (int, int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	body, err := json.Marshal(map[string]any{"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0, "logprobs": 1, "echo": true})
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/completions", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("%s/v1/completions answered HTTP %d: %.200s", base, resp.StatusCode, b)
	}
	var out struct {
		Choices []struct {
			Logprobs *struct {
				TokenLogprobs []*float64 `json:"token_logprobs"`
			} `json:"logprobs"`
		} `json:"choices"`
		Usage *struct {
			PromptTokens int `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, 0, fmt.Errorf("%s/v1/completions: not a completion (%v): %.200s", base, err, b)
	}
	if out.Usage == nil || len(out.Choices) != 1 || out.Choices[0].Logprobs == nil {
		return 0, 0, fmt.Errorf("%s/v1/completions: no usage or no echoed logprobs in %.200s", base, b)
	}
	return out.Usage.PromptTokens, len(out.Choices[0].Logprobs.TokenLogprobs), nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// tokenizeScript is run by the eval venv's Python: lm-eval's own tokenizer
// load and encode for tokenizer_backend=huggingface (transformers'
// AutoTokenizer, add_special_tokens = add_bos_token), on the texts of its
// JSON argument.
const tokenizeScript = `import json, sys
from transformers import AutoTokenizer
a = json.loads(sys.argv[1])
tok = AutoTokenizer.from_pretrained(a["source"], revision=a["revision"] or "main")
json.dump([tok(t, add_special_tokens=a["add_bos_token"]).input_ids for t in a["texts"]], sys.stdout)
`

// lmEvalTokens tokenizes with the eval venv's Python as lm-eval will.
func lmEvalTokens(python string, tok plan.EvalTokenizer, env []string) ContextTokens {
	return func(ctx context.Context, texts []string) ([][]int, error) {
		in, err := json.Marshal(map[string]any{"source": tok.Source, "revision": tok.Revision, "add_bos_token": tok.AddBOS, "texts": texts})
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		var out, stderr bytes.Buffer
		spec := proc.Spec{Name: "tokenizer", Argv: []string{python, "-c", tokenizeScript, string(in)}, Env: env, Stdout: &out, Output: &stderr}
		if err := proc.Run(ctx, spec, 5*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", python, err, tail(stderr.String(), 600))
		}
		var ids [][]int
		if err := json.Unmarshal(out.Bytes(), &ids); err != nil {
			return nil, fmt.Errorf("%s printed %.200q, not token ids: %v", python, out.String(), err)
		}
		return ids, nil
	}
}

// tail keeps the end of s, where Python puts the error.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
