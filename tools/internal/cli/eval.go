package cli

import (
	"cmp"
	"context"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// runEval is `forge eval RUN_DIR|EXPERIMENT`: lm-eval against the running
// server, one task at a time, into RUN_DIR/eval/. A run directory uses its
// plan.json; an experiment name starts a new eval-only run directory. With
// --api, the plan's tasks run against one of the APIs it compares instead.
func runEval(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "eval", "RUN_DIR|EXPERIMENT [--api NAME [--api-key-env VAR]] [--base-url URL] [--lm-eval PATH] [--experiments DIR] [--results DIR] [--var name=value]...")
	baseURL := fs.String("base-url", "", "server to evaluate (default: the plan's host and port, or with --api the API's base_url)")
	api := fs.String("api", "", "evaluate this API of the experiment's cost.compare instead (its generative tasks, chat completions), into results/EXPERIMENT.api.NAME/")
	keyEnv := fs.String("api-key-env", "", "with --api: the environment variable holding the API key (default PROVIDER_API_KEY)")
	lmEval := fs.String("lm-eval", "", "lm_eval executable (default "+pipeline.LMEvalBin+", else lm_eval on PATH)")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	resultsDir := fs.String("results", "results", "results root")
	vars := varFlags{}
	fs.Var(vars, "var", "set a variable: name=value (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("eval wants one run directory or experiment name")
	}
	if *baseURL != "" {
		if err := provenance.CheckBaseURL(*baseURL); err != nil {
			return usageErr("--base-url %v", err)
		}
	}
	out := pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}
	var p *plan.Plan
	runDir := pos[0]
	isRun := rundir.IsRun(runDir)
	if isRun {
		p, err = readPlan(filepath.Join(runDir, rundir.PlanFile))
	} else {
		p, err = planFor(env, "", *dir, pos[0], vars)
	}
	switch {
	case err != nil:
		return err
	case *api != "":
		_, err = pipeline.EvalAPI(ctx, out, p, *api, *baseURL, *keyEnv, *lmEval, *resultsDir)
		return err
	case isRun:
		return pipeline.EvalAndRetain(ctx, out, p, runDir, *baseURL, *lmEval, *resultsDir)
	}
	d, err := pipeline.EvalRunDir(*resultsDir, p)
	if err != nil {
		return err
	}
	err = pipeline.EvalAndRetain(ctx, out, p, string(d), *baseURL, *lmEval, *resultsDir)
	return cmp.Or(pipeline.Finish(ctx, d, err), err)
}
