package cli

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// runEval is `forge eval RUN_DIR|EXPERIMENT`: lm-eval against the running
// server, one task at a time, into RUN_DIR/eval/. A run directory uses its
// plan.json; an experiment name starts a new eval-only run directory.
func runEval(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "eval", "RUN_DIR|EXPERIMENT [--base-url URL] [--lm-eval PATH] [--experiments DIR] [--results DIR] [--var name=value]...")
	baseURL := fs.String("base-url", "", "server to evaluate (default: the plan's host and port)")
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
	out := pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}
	var p *plan.Plan
	runDir := pos[0]
	if rundir.IsRun(runDir) {
		if p, err = readPlan(filepath.Join(runDir, rundir.PlanFile)); err != nil {
			return err
		}
		return evalAt(ctx, out, p, runDir, *baseURL, *lmEval, *resultsDir)
	}
	if p, err = planFor(env, "", *dir, pos[0], vars); err != nil {
		return err
	}
	d, err := pipeline.EvalRunDir(*resultsDir, p)
	if err != nil {
		return err
	}
	err = evalAt(ctx, out, p, string(d), *baseURL, *lmEval, *resultsDir)
	return cmp.Or(pipeline.Finish(ctx, d, err), err)
}

func evalAt(ctx context.Context, out pipeline.Out, p *plan.Plan, runDir, baseURL, lmEval, resultsDir string) error {
	base := provenance.ServerURL(baseURL)
	if base == "" {
		base = fmt.Sprintf("http://%s:%d", p.Engine.Host, p.Engine.Port)
	}
	// Retention of the tasks that succeeded, also when another failed.
	evalErr := pipeline.Eval(ctx, out, p, runDir, base, lmEval)
	return cmp.Or(evalErr, pipeline.RetentionFor(out, p, runDir, resultsDir))
}
