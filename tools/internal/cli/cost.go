package cli

import (
	"context"
	"fmt"

	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/rundir"
	"github.com/forge-bench/forge/tools/internal/verify"
)

// runCost writes cost.json into each run directory and prints the headline.
func runCost(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "cost", "RUN_DIR... [--allow-incomplete] (a run, an experiment's directory for its latest complete run, or results/ for the latest of each)")
	allow := fs.Bool("allow-incomplete", false, "price a run that is not complete; cost.json then carries an INCOMPLETE banner naming the levels")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("cost wants at least one run directory")
	}
	dirs, err := rundir.Resolve(pos)
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		if _, err := pipeline.PrintCost(pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, dir, *allow); err != nil {
			return err
		}
	}
	return nil
}

// runVerify recomputes every summary and cost under the given roots.
func runVerify(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "verify", "[RESULTS...] (default results/)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"results"}
	}
	diffs, total, err := verify.Trees(pos)
	for _, d := range diffs {
		fmt.Fprintln(env.Stderr, d.String())
	}
	if err != nil {
		return err
	}
	bad := len(diffs)
	if bad > 0 {
		return problems("verify: %d problem(s) in %d run(s): the files above do not follow from their inputs", bad, total.Runs)
	}
	fmt.Fprintf(env.Stdout, "verify: %d run(s), %d summaries from %d records, %d cost report(s): all recomputed byte-identical\n",
		total.Runs, total.Summaries, total.Records, total.Costs)
	return nil
}
