package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// runPlan prints (or writes) the resolved plan of one experiment.
func runPlan(_ context.Context, env Env, args []string) error {
	fset := newFlags(env, "plan", "<experiment-name> [--out FILE] [--experiments DIR] [--var name=value]...")
	out := fset.String("out", "", "write the plan here instead of stdout")
	dir := fset.String("experiments", "experiments", "directory (or file) of experiments")
	vars := varFlags{}
	fset.Var(vars, "var", "set a variable: name=value (repeatable)")
	pos, err := parse(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fset.Usage()
		return usageErr("plan wants exactly one experiment name")
	}
	p, err := loadPlan(env, *dir, pos[0], vars)
	if err != nil {
		return err
	}
	data, err := plan.Encode(p)
	if err != nil {
		return err
	}
	if err := plan.Validate(data); err != nil {
		return fmt.Errorf("internal error, please report: %w", err)
	}
	if *out == "" {
		_, err = env.Stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return problems("write plan: %v", err)
	}
	fmt.Fprintf(env.Stderr, "plan %s (%s) written to %s\n", p.Experiment, p.Hash, *out)
	return nil
}

// loadPlan loads the experiments, refuses on any error (printing all of
// them), and builds the named experiment's plan. Warnings are printed too.
func loadPlan(env Env, dir, name string, vars map[string]string) (*plan.Plan, error) {
	cfg, diags := experiment.Load([]string{dir}, experiment.Options{Vars: vars})
	experiment.SortDiagnostics(diags)
	if cfg != nil {
		if err := experiment.WriteDiagnostics(env.Stderr, cfg.Files, diags, 100, false); err != nil {
			return nil, err
		}
	} else {
		for _, d := range diags {
			fmt.Fprintf(env.Stderr, "error: %s: %s\n", d.Summary, d.Detail)
		}
	}
	if diags.HasErrors() {
		return nil, problems("%s has errors; fix them first (forge validate %s)", dir, dir)
	}
	e := cfg.ExperimentByName(name)
	if e == nil {
		names := cfg.ExperimentNames()
		return nil, problems("no experiment named %q in %s%s; declared: %s", name, dir, didYouMean(name, names), strings.Join(names, ", "))
	}
	return plan.Build(cfg, e)
}

func didYouMean(got string, names []string) string {
	if s := experiment.Suggest(got, names); s != "" {
		return ";" + strings.ToLower(s[:1]) + s[1:]
	}
	return ""
}

// planFor returns the plan of an experiment: from a plan file when given,
// else built from the experiments directory.
func planFor(env Env, planPath, dir, name string, vars map[string]string) (*plan.Plan, error) {
	if planPath != "" {
		return readPlan(planPath)
	}
	if name == "" {
		return nil, usageErr("name an experiment (or give --plan)")
	}
	p, err := loadPlan(env, dir, name, vars)
	if err != nil {
		return nil, err
	}
	// Round-trip through the canonical encoding so the hash is set.
	if _, err := plan.Encode(p); err != nil {
		return nil, err
	}
	return p, nil
}
