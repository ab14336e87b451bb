package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/experiment"
)

var update = flag.Bool("update", false, "rewrite golden plans in testdata/golden")

// committedPlans builds the plan of every committed experiment, from the
// repository root so that source paths read as users see them.
func committedPlans(t *testing.T) map[string][]byte {
	t.Helper()
	golden, err := filepath.Abs("testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("../../..")
	cfg, diags := experiment.Load([]string{"experiments"}, experiment.Options{})
	if diags.HasErrors() {
		t.Fatalf("experiments/ has errors: %v", diags)
	}
	out := map[string][]byte{}
	for _, name := range cfg.ExperimentNames() {
		p, err := Build(cfg, cfg.ExperimentByName(name))
		if err != nil {
			t.Fatal(err)
		}
		data, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Join(golden, name+".json")] = data
		if e := cfg.ExperimentByName(name); e.Rehearsal != nil {
			r, err := BuildRehearsal(cfg, e)
			if err != nil {
				t.Fatal(err)
			}
			if data, err = Encode(r); err != nil {
				t.Fatal(err)
			}
			out[filepath.Join(golden, r.Experiment+".json")] = data
		}
	}
	return out
}

// TestGoldenPlans compares each committed experiment's plan with its golden
// file; run `go test ./tools/internal/plan -update` after an intended change.
func TestGoldenPlans(t *testing.T) {
	for path, data := range committedPlans(t) {
		if *update {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(want, data) {
			t.Errorf("%s differs from the generated plan; run go test ./tools/internal/plan -update and review the diff", filepath.Base(path))
		}
	}
}

// TestPlansValidAndStable: every plan matches the schema, its hash is the
// sha256 of the document with an empty hash, and a rebuild is byte-identical.
func TestPlansValidAndStable(t *testing.T) {
	first := committedPlans(t)
	t.Chdir("tools/internal/plan") // committedPlans moved to the root
	second := committedPlans(t)
	for path, data := range first {
		if !bytes.Equal(data, second[path]) {
			t.Errorf("%s: two builds differ", filepath.Base(path))
		}
		if err := Validate(data); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		hash := doc["hash"].(string)
		blank := strings.Replace(string(data), hash, "", 1)
		sum := sha256.Sum256([]byte(blank))
		if hash != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("%s: hash %s is not the sha256 of the document with an empty hash", filepath.Base(path), hash)
		}
	}
}

// TestPlanContents checks the parts of a plan later stages depend on.
func TestPlanContents(t *testing.T) {
	var awq, twin map[string]any
	for path, data := range committedPlans(t) {
		switch filepath.Base(path) {
		case "llama31_8b_awq_a5000.json":
			_ = json.Unmarshal(data, &awq)
		case "twin.json":
			_ = json.Unmarshal(data, &twin)
		}
	}
	if awq == nil || twin == nil {
		t.Fatal("committed experiments missing")
	}
	engine := awq["engine"].(map[string]any)
	yaml := engine["config_yaml"].(string)
	for _, want := range []string{"model: \"hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4\"", "revision: \"db1f81ad4b8c7e39777509fac66c652eb0a52f91\"",
		"max-num-seqs: 64", "no-enable-prefix-caching: true", "host: \"127.0.0.1\""} {
		if !strings.Contains(yaml, want) {
			t.Errorf("vLLM config lacks %q:\n%s", want, yaml)
		}
	}
	if strings.Contains(yaml, "quantization") {
		t.Error("vLLM config must not force a quantization kernel; vLLM picks awq_marlin itself")
	}
	// The study's lm-eval tokenizes with the model's own files at the
	// pinned revision, BOS added, and leaves lm-eval's max_length one
	// token below max_model_len.
	ev := awq["eval"].(map[string]any)
	tok := ev["tokenizer"].(map[string]any)
	if tok["source"] != "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4" || tok["revision"] != "db1f81ad4b8c7e39777509fac66c652eb0a52f91" || tok["add_bos_token"] != true {
		t.Errorf("the study's eval tokenizer is %v, want the pinned model's own with BOS", tok)
	}
	if ev["max_length"] != float64(4095) {
		t.Errorf("eval max_length = %v, want max_model_len − 1 = 4095", ev["max_length"])
	}
	steps := awq["steps"].([]any)
	serve := steps[0].(map[string]any)
	if got := strings.Join(toStrings(serve["nix"]), " "); got != "nix develop .#serve --command vllm serve --config {run_dir}/vllm-config.yaml" {
		t.Errorf("serve step (nix) = %q", got)
	}
	if got := strings.Join(toStrings(serve["argv"]), " "); got != ".venv/serve/bin/vllm serve --config {run_dir}/vllm-config.yaml" {
		t.Errorf("serve step (fallback) = %q", got)
	}
	var eval map[string]any
	for _, s := range steps {
		if st := s.(map[string]any); st["name"] == "eval" {
			eval = st
		}
	}
	if eval == nil || strings.Join(toStrings(eval["argv"]), " ") != "bin/forge eval {run_dir}" ||
		!strings.Contains(eval["description"].(string), "mmlu 5-shot, gsm8k 5-shot, hellaswag 5-shot") {
		t.Errorf("eval step = %v", eval)
	}
	// Every eval task carries its pinned data: gsm8k its test and few-shot files.
	tasks := awq["eval"].(map[string]any)["tasks"].([]any)
	var roles []string
	for _, d := range tasks[1].(map[string]any)["data"].([]any) {
		dm := d.(map[string]any)
		roles = append(roles, dm["role"].(string)+"="+dm["dataset"].(map[string]any)["name"].(string))
	}
	if strings.Join(roles, ",") != "test=gsm8k_test,fewshot=gsm8k_train" {
		t.Errorf("gsm8k data = %v", roles)
	}
	if _, ok := twin["engine"].(map[string]any)["config_yaml"]; ok {
		t.Error("the twin has no vLLM config")
	}
	if got := twin["steps"].([]any)[0].(map[string]any)["argv"]; strings.Join(toStrings(got), " ") != "bin/forge twin --experiment twin --listen 127.0.0.1:18000" {
		t.Errorf("twin serve step = %v", got)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestPlanSchemaRejects mutates a valid plan and expects the schema to
// point at the mutated place.
func TestPlanSchemaRejects(t *testing.T) {
	var valid []byte
	for path, data := range committedPlans(t) {
		if filepath.Base(path) == "llama31_8b_awq_a5000.json" {
			valid = data
		}
	}
	tests := []struct {
		name    string
		mutate  func(doc map[string]any)
		pointer string
	}{
		{"short revision", func(d map[string]any) { d["model"].(map[string]any)["revision"] = "abc" }, "/model/revision"},
		{"public host", func(d map[string]any) { d["engine"].(map[string]any)["host"] = "0.0.0.0" }, "/engine/host"},
		{"no levels", func(d map[string]any) { d["sweep"].(map[string]any)["levels"] = []any{} }, "/sweep/levels"},
		{"vllm without config", func(d map[string]any) { delete(d["engine"].(map[string]any), "config_yaml") }, "/engine"},
		{"missing hash", func(d map[string]any) { delete(d, "hash") }, ""},
		{"unknown field", func(d map[string]any) { d["extra"] = 1 }, ""},
		{"bad price date", func(d map[string]any) {
			d["hardware"].(map[string]any)["price"].(map[string]any)["observed"] = "May 2026"
		}, "/hardware/price/observed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(valid, &doc); err != nil {
				t.Fatal(err)
			}
			tt.mutate(doc)
			data, _ := json.Marshal(doc)
			findings, err := schemas.ValidateJSON(schemas.Plan, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) == 0 {
				t.Fatal("mutated plan accepted")
			}
			found := false
			for _, f := range findings {
				found = found || f.Pointer == tt.pointer
			}
			if !found {
				t.Errorf("no finding at %q: %+v", tt.pointer, findings)
			}
		})
	}
}
