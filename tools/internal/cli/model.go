package cli

import (
	"context"
	"fmt"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/models"
	"github.com/forge-bench/forge/tools/internal/pipeline"
)

// runModel is `forge model prepare EXPERIMENT`: makes the experiment's
// converted checkpoint exist in the model cache, by sha256.
func runModel(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "prepare" {
		return usageErr("usage: forge model prepare EXPERIMENT [--rehearsal] [--experiments DIR] [--python PATH]")
	}
	fs := newFlags(env, "model prepare", "EXPERIMENT [--rehearsal] [--experiments DIR] [--python PATH]")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	rehearsal := fs.Bool("rehearsal", false, "prepare the model of the experiment's rehearsal (its stand-in)")
	python := fs.String("python", "", "python with transformers and gguf (default .venv/serve-cpu/bin/python)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("model prepare wants one experiment name")
	}
	name := pos[0]
	if *rehearsal {
		name = experiment.RehearsalName(name)
	}
	p, err := planFor(env, "", *dir, name, nil)
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
	if *format != "sharegpt" && *format != "jsonl" {
		return usageErr("--format must be sharegpt or jsonl, got %q", *format)
	}
	n, err := pipeline.WritePrompts(ctx, p, *out, *format)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "prompts: %d requests of %s in %s\n", n, p.Experiment, *out)
	return nil
}
