package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/report"
	"github.com/forge-bench/forge/tools/internal/runs"
	"github.com/forge-bench/forge/tools/internal/verify"
)

// runCost writes cost.json into each run directory and prints the headline.
func runCost(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "cost", "RUN_DIR... (a run, an experiment's directory for its latest run, or results/ for the latest of each)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("cost wants at least one run directory")
	}
	dirs, err := runs.Resolve(pos)
	if err != nil {
		return problems("%v", err)
	}
	for _, dir := range dirs {
		if _, err := writeCost(env, dir); err != nil {
			return err
		}
	}
	return nil
}

// writeCost prices one run into <dir>/cost.json and prints its headline.
func writeCost(env Env, dir string) (*cost.Report, error) {
	r, err := runs.LoadRun(dir)
	if err != nil {
		return nil, problems("%v", err)
	}
	rep, data, err := cost.ForRun(r)
	if err != nil {
		return nil, problems("%v", err)
	}
	path := filepath.Join(dir, cost.FileName)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return nil, problems("%v", err)
	}
	fmt.Fprintf(env.Stdout, "%s: $%.4f per 1M output tokens, $%.4f per 1M tokens in+out, at %s %g (%s peak, utilization 1.0, $%.2f/h %s, price of %s)\n",
		path, rep.Headline.USDPer1MOutputTokens, rep.Headline.USDPer1MTotalTokens, rep.Headline.Level.Kind, rep.Headline.Level.Value,
		rep.ThroughputSource, rep.Price.USDPerHour, rep.Price.Provider, rep.Price.Observed)
	for _, a := range rep.APIs {
		be := "never (the API is cheaper per token)"
		if a.BreakEvenTokensPerMonth != nil {
			be = fmt.Sprintf("%s tokens/month", report.Human(*a.BreakEvenTokensPerMonth))
		}
		fmt.Fprintf(env.Stdout, "  vs %-16s $%.4f per 1M blended: %s cheaper; break-even %s\n", a.Name, a.BlendedUSDPer1M, a.Cheaper, be)
	}
	fmt.Fprintf(env.Stdout, "  goodput: %s\n", rep.Goodput.Statement)
	return rep, nil
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
	var total verify.Counts
	bad := 0
	for _, root := range pos {
		diffs, n, err := verify.Tree(root)
		for _, d := range diffs {
			fmt.Fprintln(env.Stderr, d.String())
		}
		bad += len(diffs)
		total.Runs, total.Summaries, total.Records, total.Costs = total.Runs+n.Runs, total.Summaries+n.Summaries, total.Records+n.Records, total.Costs+n.Costs
		if err != nil {
			return problems("verify %s: %v", root, err)
		}
	}
	if bad > 0 {
		return problems("verify: %d difference(s) in %d run(s): the files above do not follow from their inputs", bad, total.Runs)
	}
	fmt.Fprintf(env.Stdout, "verify: %d run(s), %d summaries from %d records, %d cost report(s): all recomputed byte-identical\n",
		total.Runs, total.Summaries, total.Records, total.Costs)
	return nil
}
