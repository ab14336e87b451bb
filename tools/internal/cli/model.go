package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/models"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/workload"
)

// runModel is `forge model prepare EXPERIMENT`: makes the experiment's
// converted checkpoint exist in the model cache, by sha256.
func runModel(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "prepare" {
		return usageErr("usage: forge model prepare EXPERIMENT [--experiments DIR] [--python PATH]")
	}
	fs := newFlags(env, "model prepare", "EXPERIMENT [--experiments DIR] [--python PATH]")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	python := fs.String("python", "", "python with transformers and gguf (default .venv/serve-cpu/bin/python)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("model prepare wants one experiment name")
	}
	p, err := planFor(env, "", *dir, pos[0], nil)
	if err != nil {
		return err
	}
	if p.Model.Source == nil {
		fmt.Fprintf(env.Stdout, "model %s: served from %s@%s by the engine itself; nothing to prepare\n", p.Model.Name, p.Model.Repo, p.Model.Revision)
		return nil
	}
	fmt.Fprintf(env.Stderr, "model %s: preparing %s from %s (%s)\n", p.Model.Name, p.Model.Path, p.Model.Source.URL, p.Model.Source.Member)
	res, err := models.Prepare(ctx, p.Model, models.Options{Python: *python, Log: env.Stderr})
	if err != nil {
		return problems("%v", err)
	}
	how := "converted"
	if res.Cached {
		how = "cached"
	}
	fmt.Fprintf(env.Stdout, "model %s: %s, sha256 %s (%s)\n", p.Model.Name, res.Dir, res.SHA256, how)
	return nil
}

// runPrompts is `forge prompts`: writes the exact measured requests of a
// plan (warmup excluded) in a format another client reads, so that vLLM's
// own `vllm bench serve` sends the same prompts with the same lengths.
func runPrompts(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "prompts", "--plan PLAN.json --out FILE [--format sharegpt|jsonl]")
	planPath := fs.String("plan", "", "plan JSON (forge plan, or a run's plan.json)")
	out := fs.String("out", "", "file to write")
	format := fs.String("format", "sharegpt", "sharegpt (vllm bench --dataset-name sharegpt) or jsonl (prompt, max_tokens, prompt_tokens)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *planPath == "" || *out == "" {
		return usageErr("prompts wants --plan and --out")
	}
	p, err := readPlan(*planPath)
	if err != nil {
		return err
	}
	reqs, err := measuredRequests(ctx, p)
	if err != nil {
		return err
	}
	data, err := encodePrompts(reqs, *format)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return problems("%v", err)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return problems("%v", err)
	}
	fmt.Fprintf(env.Stdout, "prompts: %d requests of %s in %s\n", len(reqs), p.Experiment, *out)
	return nil
}

// measuredRequests are the requests a level of the plan sends, in order,
// generated exactly as forge bench does (warmup first, then dropped).
func measuredRequests(ctx context.Context, p *plan.Plan) ([]workload.Request, error) {
	var cfg bench.Config
	spec, err := fromPlan(ctx, p, &cfg)
	if err != nil {
		return nil, err
	}
	warm := p.Sweep.Warmup
	spec.NumPrompts += warm
	set, err := workload.Generate(spec)
	if err != nil {
		return nil, problems("workload: %v", err)
	}
	return set.Requests[warm:], nil
}

// encodePrompts writes requests as a ShareGPT list (each prompt with an
// empty reply: vllm bench then needs --sharegpt-output-len, as Forge's own
// fixed output length) or as JSONL.
func encodePrompts(reqs []workload.Request, format string) ([]byte, error) {
	type turn struct {
		From  string `json:"from"`
		Value string `json:"value"`
	}
	type conv struct {
		ID            string `json:"id"`
		Conversations []turn `json:"conversations"`
	}
	switch format {
	case "sharegpt":
		for _, r := range reqs {
			if r.MaxTokens != reqs[0].MaxTokens {
				return nil, problems("prompts: output lengths differ between requests (%d, %d), which vllm bench's sharegpt loader cannot be told; use --format jsonl", reqs[0].MaxTokens, r.MaxTokens)
			}
		}
		out := make([]conv, len(reqs))
		for i, r := range reqs {
			out[i] = conv{ID: fmt.Sprintf("forge-%d", i), Conversations: []turn{{"human", r.Prompt}, {"gpt", ""}}}
		}
		b, err := json.MarshalIndent(out, "", " ")
		return append(b, '\n'), err
	case "jsonl":
		var b []byte
		for _, r := range reqs {
			line, err := json.Marshal(struct {
				Prompt       string `json:"prompt"`
				MaxTokens    int    `json:"max_tokens"`
				PromptTokens int    `json:"prompt_tokens"`
			}{r.Prompt, r.MaxTokens, r.PromptTokens})
			if err != nil {
				return nil, err
			}
			b = append(append(b, line...), '\n')
		}
		return b, nil
	}
	return nil, usageErr("--format must be sharegpt or jsonl, got %q", format)
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
