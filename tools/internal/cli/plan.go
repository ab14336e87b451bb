package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// runPlan prints (or writes) the resolved plan of one experiment.
func runPlan(ctx context.Context, env Env, args []string) error {
	fset := newFlags(env, "plan", "<experiment-name> [--rehearsal] [--estimate] [--out FILE] [--experiments DIR] [--var name=value]...")
	estimate := fset.Bool("estimate", false, "print what a run costs before it is rented: requests, tokens, hours and dollars per phase (sweep levels from the twin, eval tasks from the pinned data)")
	out := fset.String("out", "", "write the plan here instead of stdout")
	rehearsal := fset.Bool("rehearsal", false, "the plan of the experiment's CPU rehearsal (its rehearsal block)")
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
	name := pos[0]
	if *rehearsal {
		name = experiment.RehearsalName(name)
	}
	p, err := loadPlan(env, *dir, name, vars)
	if err != nil {
		return err
	}
	data, err := plan.Encode(p)
	if err != nil {
		return err
	}
	if *estimate {
		est, err := pipeline.EstimatePlan(ctx, p)
		if err != nil {
			return problems("estimate %s: %v", p.Experiment, err)
		}
		est.Write(env.Stdout)
		return nil
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

// loadPlan builds the plan a name asks for (plan.Named) from dir.
func loadPlan(env Env, dir, name string, vars map[string]string) (*plan.Plan, error) {
	cfg, err := experiment.LoadReported(env.Stderr, dir, vars)
	if err != nil {
		return nil, err
	}
	p, err := plan.Named(cfg, name)
	if err != nil {
		return nil, problems("%s: %v", dir, err)
	}
	return p, nil
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
