package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// apiKey is a key no output may contain: every test below greps for it.
const apiKey = "sk-forge-test-0123456789abcdef"

// lmEvalAPIFake is a fake lm_eval that records its arguments, writes the
// sha256 of the OPENAI_API_KEY it was given beside itself (so the test sees
// that the key arrived, without the key being written), and then writes
// the GSM8K fixture as lm-eval would.
func lmEvalAPIFake(t *testing.T) string {
	return strings.Replace(lmEvalCopying(t), recordArgs, recordArgs+`printf '%s' "$OPENAI_API_KEY" | sha256sum | cut -d' ' -f1 > "$(dirname "$0")/keyhash"
`, 1)
}

// apiEvalSetup is newEvalSetup's run directory with one hosted API in the
// plan's cost.compare.
func apiEvalSetup(t *testing.T, lmEval string) evalSetup {
	t.Helper()
	s := newEvalSetup(t, lmEval, "0.4.13", false)
	s.plan.Cost.Compare = []plan.API{{Name: "hosted", Provider: "example", Model: "org/model-x", BaseURL: "https://api.example.com/v1",
		USDPer1MInput: 0.02, USDPer1MOutput: 0.04, Source: "https://example.com/pricing", Observed: "2026-11-20", Scores: []plan.Score{}}}
	writePlan(t, s)
	return s
}

func writePlan(t *testing.T, s evalSetup) {
	t.Helper()
	b, err := plan.Encode(s.plan)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.runDir, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// noKeyUnder fails when the key appears in any file under root or in the
// command's output.
func noKeyUnder(t *testing.T, root string, outputs ...string) {
	t.Helper()
	for _, o := range outputs {
		if strings.Contains(o, apiKey) {
			t.Errorf("the API key is in the command's output:\n%s", o)
		}
	}
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(b), apiKey) {
			t.Errorf("the API key is written in %s", path)
		}
		return err
	})
	if err != nil || files == 0 {
		t.Errorf("walking %s: %v (%d files)", root, err, files)
	}
}

// apiRecord is the one eval record an --api run wrote under results.
func apiRecord(t *testing.T, results, experiment string) (eval.Run, []byte) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(results, experiment+".api.hosted", "*", "eval", "gsm8k.json"))
	if len(m) != 1 {
		t.Fatalf("want one eval record under %s.api.hosted, got %v", experiment, m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	if f, err := schemas.ValidateJSON(schemas.EvalRun, b); err != nil || len(f) != 0 {
		t.Errorf("%s does not validate: %v %+v", m[0], err, f)
	}
	var rec eval.Run
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	return rec, b
}

// TestEvalAPI: `forge eval RUN --api NAME` runs lm-eval's
// local-chat-completions with the chat template against the API's
// endpoint, hands the key over in the environment only, and writes a
// schema-valid record naming the API, with no revision to pin.
func TestEvalAPI(t *testing.T) {
	s := apiEvalSetup(t, lmEvalAPIFake(t))
	results := t.TempDir()
	t.Setenv("EXAMPLE_API_KEY", apiKey)
	base := "http://127.0.0.1:9/v1"
	stdout, stderr, err := runErr("eval", s.runDir, "--api", "hosted", "--base-url", base, "--lm-eval", s.bin, "--results", results)
	if err != nil {
		t.Fatalf("forge eval --api: %v\nstderr:\n%s", err, stderr)
	}
	callsB, err := os.ReadFile(s.calls)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimSuffix(string(callsB), "\n"), "\n")
	if got := argAfter(args, "--model"); got != "local-chat-completions" {
		t.Errorf("--model %q, want local-chat-completions", got)
	}
	if ma := argAfter(args, "--model_args"); !strings.HasPrefix(ma, "base_url="+base+"/chat/completions,model=org/model-x,") || !strings.Contains(ma, "tokenizer_backend=None") {
		t.Errorf("--model_args %q", ma)
	}
	for _, f := range []string{"--apply_chat_template", "--fewshot_as_multiturn", "--log_samples"} {
		if !contains(args, f) {
			t.Errorf("no %s in %q", f, args)
		}
	}
	sum := sha256.Sum256([]byte(apiKey))
	if kh, _ := os.ReadFile(filepath.Join(filepath.Dir(s.bin), "keyhash")); strings.TrimSpace(string(kh)) != hex.EncodeToString(sum[:]) {
		t.Errorf("lm-eval's OPENAI_API_KEY is not the key from EXAMPLE_API_KEY (sha256 %q)", kh)
	}
	rec, raw := apiRecord(t, results, s.plan.Experiment)
	if rec.API == nil || rec.API.Name != "hosted" || rec.API.KeyEnv != "EXAMPLE_API_KEY" || rec.API.BaseURL != base || rec.API.Format != "chat" {
		t.Errorf("record's api %+v", rec.API)
	}
	if !strings.Contains(string(raw), `"revision": null`) || rec.Model.Repo != "org/model-x" || rec.Provenance.Engine.Name != "example" {
		t.Errorf("record's model %+v, engine %+v: want the API's model id, no revision, the provider", rec.Model, rec.Provenance.Engine)
	}
	if !strings.Contains(stdout, ".api.hosted") {
		t.Errorf("stdout does not name the run directory:\n%s", stdout)
	}
	noKeyUnder(t, results, stdout, stderr, string(callsB))
}

// TestEvalAPIRefuses: each way --api cannot start is one clear message and
// no lm-eval run.
func TestEvalAPIRefuses(t *testing.T) {
	for _, c := range []struct {
		name, api, keyEnv, key string
		onlyLogLikelihood      bool
		want                   string
	}{
		{name: "key not set", api: "hosted", want: "EXAMPLE_API_KEY is not set"},
		{name: "other variable not set", api: "hosted", keyEnv: "MY_KEY", key: apiKey, want: "MY_KEY is not set"},
		{name: "bad variable name", api: "hosted", keyEnv: "my-key", want: "not an environment variable name"},
		{name: "api not compared", api: "gpt_99", key: apiKey, want: `does not compare an api "gpt_99"; it compares: hosted`},
		{name: "no generative task", api: "hosted", key: apiKey, onlyLogLikelihood: true, want: "only log-likelihood tasks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := apiEvalSetup(t, lmEvalAPIFake(t))
			if c.onlyLogLikelihood {
				s.plan.Eval.Tasks[0].Name = "hellaswag"
				writePlan(t, s)
			}
			t.Setenv("EXAMPLE_API_KEY", c.key)
			args := []string{"eval", s.runDir, "--api", c.api, "--lm-eval", s.bin, "--results", t.TempDir()}
			if c.keyEnv != "" {
				args = append(args, "--api-key-env", c.keyEnv)
			}
			_, _, err := runErr(args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want %q", err, c.want)
			}
			if _, err := os.Stat(s.calls); err == nil {
				t.Error("lm_eval ran")
			}
		})
	}
}

// TestEvalAPIRealLMEval runs the pinned lm-eval (FORGE_LM_EVAL, set by
// make eval-api-check) against a local fake OpenAI-compatible chat API
// that answers every GSM8K question correctly and only to the right key:
// the score is 1, every request carried the key, and no file holds it.
func TestEvalAPIRealLMEval(t *testing.T) {
	bin := os.Getenv("FORGE_LM_EVAL")
	if bin == "" {
		t.Skip("FORGE_LM_EVAL is not set: make eval-api-check runs this with the pinned lm-eval")
	}
	s := apiEvalSetup(t, "")
	// Enough training examples for the plan's shots.
	train := ""
	for i := 1; i <= 8; i++ {
		train += fmt.Sprintf(`{"question": "What is %d + 1?", "answer": "%d + 1 = %d\n#### %d"}`+"\n", i, i, i+1, i+1)
	}
	seed := t.TempDir()
	for rel, body := range map[string]string{"gsm8k/test.jsonl": gsm8kTest, "gsm8k/train.jsonl": train} {
		if err := os.MkdirAll(filepath.Join(seed, "gsm8k"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(seed, filepath.FromSlash(rel)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FORGE_DATA_SEED", seed)
	for i := range s.plan.Eval.Tasks[0].Data {
		if d := &s.plan.Eval.Tasks[0].Data[i].Dataset; d.Path == "gsm8k/train.jsonl" {
			d.SHA256, d.SizeBytes = hexSHA256(train), int64(len(train))
		}
	}
	writePlan(t, s)

	var requests, unauthorized atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+apiKey {
			unauthorized.Add(1)
			http.Error(w, `{"error": "bad key"}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Messages []map[string]any `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 {
			http.Error(w, "no messages", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "x", "object": "chat.completion", "model": "org/model-x",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": "2 + 3 = 5\n#### 5"}}},
			"usage":   map[string]int{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
	}))
	defer srv.Close()
	results := t.TempDir()
	t.Setenv("EXAMPLE_API_KEY", apiKey)
	stdout, stderr, err := runErr("eval", s.runDir, "--api", "hosted", "--base-url", srv.URL+"/v1", "--lm-eval", bin, "--results", results)
	if err != nil {
		t.Fatalf("forge eval --api with lm-eval %s: %v\nstderr:\n%s", bin, err, stderr)
	}
	rec, _ := apiRecord(t, results, s.plan.Experiment)
	if len(rec.Tasks) != 1 || rec.Tasks[0].Score != 1 || rec.Tasks[0].N != 1 {
		t.Errorf("tasks %+v: want gsm8k scored 1 on the one document", rec.Tasks)
	}
	if requests.Load() == 0 || unauthorized.Load() != 0 {
		t.Errorf("%d requests, %d without the key", requests.Load(), unauthorized.Load())
	}
	noKeyUnder(t, results, stdout, stderr)
}
