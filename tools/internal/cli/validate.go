package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/results"
)

// runValidate checks every .hcl file (the experiment language) and every
// .json/.jsonl file (results, against the schema each names) under the given
// paths, reporting all problems in one run.
func runValidate(_ context.Context, env Env, args []string) error {
	fset := newFlags(env, "validate", "[--strict] [--var name=value]... [paths...]  (default: experiments/)")
	strict := fset.Bool("strict", false, "treat warnings (e.g. stale prices) as errors")
	today := fset.String("today", "", "reference date YYYY-MM-DD for price staleness (default: today)")
	maxAge := fset.Int("max-price-age", 180, "days after which a price's observed date is stale (a warning)")
	vars := varFlags{}
	fset.Var(vars, "var", "set a variable: name=value (repeatable)")
	paths, err := parse(fset, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		paths = []string{"experiments"}
	}
	if *maxAge < 1 {
		return usageErr("--max-price-age must be at least 1 day")
	}
	opts := experiment.Options{Vars: vars, PriceMaxAgeDays: *maxAge}
	if *today != "" {
		t, err := time.Parse("2006-01-02", *today)
		if err != nil {
			return usageErr("--today %q: want YYYY-MM-DD", *today)
		}
		opts.Now = t
	}
	hcl, data, err := results.SplitPaths(paths)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(hcl) == 0 && len(data) == 0 {
		return usageErr("nothing to validate under %s: no .hcl, .json or .jsonl files", strings.Join(paths, ", "))
	}
	var nErr, nWarn int
	if len(hcl) > 0 {
		cfg, diags := experiment.Load(hcl, opts)
		experiment.SortDiagnostics(diags)
		if cfg != nil {
			if err := experiment.WriteDiagnostics(env.Stderr, cfg.Files, diags, 100, false); err != nil {
				return err
			}
		}
		e, w := experiment.Counts(diags)
		nErr, nWarn = nErr+e, nWarn+w
		if cfg != nil && e == 0 {
			fmt.Fprintf(env.Stdout, "experiments: %d file(s), %d experiment(s): %s\n", len(hcl), len(cfg.Experiments), strings.Join(cfg.ExperimentNames(), ", "))
		}
	}
	for _, root := range data {
		probs, err := results.ValidateTree(root)
		if err != nil {
			return problems("validate %s: %v", root, err)
		}
		for _, p := range probs {
			fmt.Fprintln(env.Stderr, p.String())
		}
		nErr += len(probs)
		if len(probs) == 0 {
			fmt.Fprintf(env.Stdout, "results: %s is valid\n", root)
		}
	}
	fmt.Fprintf(env.Stdout, "%d error(s), %d warning(s)\n", nErr, nWarn)
	if nErr > 0 || (*strict && nWarn > 0) {
		return problems("validation failed")
	}
	return nil
}
