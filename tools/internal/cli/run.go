package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/forge-bench/forge/tools/internal/twin"
	"path/filepath"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// runRun is `forge run NAME` (or `forge run --resume RUN_DIR`): the
// pipeline end to end, into results/<experiment>/<run-id>/.
func runRun(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "run", "NAME [--rehearsal] [--experiments DIR] [--results DIR] [--run-id ID] [--time-scale X] [--compare DIRS] [--parity] [--no-eval] [--metrics-addr ADDR] [--var name=value]... | --resume RUN_DIR")
	parity := fs.Bool("parity", false, "vLLM only: after each of Forge's levels, run vLLM's own `vllm bench serve` on the same level, server and prompts, import it and write parity/parity.md")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	resultsDir := fs.String("results", "results", "results root")
	runID := fs.String("run-id", "", "run id (default: UTC time and commit); an existing run directory is refused")
	resume := fs.String("resume", "", "finish this interrupted or failed run directory: its complete levels are kept, the others run again (the plan must not have changed)")
	scale := fs.Float64("time-scale", 0, "twin only: modelled seconds per wall second (default 1; a resumed run keeps its own)")
	compare := fs.String("compare", "", "comma-separated runs (or experiment directories, for their latest complete run) to include in the charts and report")
	healthTimeout := fs.Duration("health-timeout", 15*time.Minute, "how long to wait for the server to answer /health")
	rehearsal := fs.Bool("rehearsal", false, "run the experiment's CPU rehearsal (its rehearsal block: the study with only the model, hardware and counts swapped) into results/NAME.rehearsal/")
	noEval := fs.Bool("no-eval", false, "skip the experiment's eval block (lm-eval against the server after the sweep)")
	vars := varFlags{}
	fs.Var(vars, "var", "set a variable: name=value (repeatable)")
	var mf metricsFlags
	mf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := twin.CheckTimeScale(*scale); flagGiven(fs, "time-scale") && err != nil {
		return usageErr("--time-scale: %v", err)
	}
	if err := rundir.CheckID(*runID); *runID != "" && err != nil {
		return usageErr("--run-id %v", err)
	}
	name, err := runTarget(pos, *resume)
	if err != nil {
		return err
	}
	if *rehearsal {
		if *resume != "" {
			return usageErr("--rehearsal with --resume: a resumed run keeps its own plan (%s)", name)
		}
		name = experiment.RehearsalName(name)
	}
	// Listen before anything starts, so a bad --metrics-addr costs no
	// server start-up. The endpoint is up for the whole sweep.
	lm, err := mf.start(ctx, env, "run")
	if err != nil {
		return err
	}
	defer lm.Close()
	p, err := planFor(env, "", *dir, name, vars)
	if err != nil {
		return err
	}
	_, err = pipeline.Run(ctx, p, pipeline.Options{Out: pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr},
		ResultsRoot: *resultsDir, RunID: *runID, Resume: *resume, TimeScale: *scale, Compare: *compare,
		HealthTimeout: *healthTimeout, Parity: *parity, NoEval: *noEval, Exporter: lm.Exporter(), SweepDone: lm.Finish, InFlight: bench.InFlight,
		Measured: func(res *pipeline.Result) {
			fmt.Fprintf(env.Stdout, "run %s: %s, %d level(s) measured in %s\n", res.Dir.ID(), res.State.State, len(res.Summaries), res.Dir)
			for _, s := range res.Summaries {
				fmt.Fprintf(env.Stdout, "  %-18s %8.1f output tok/s  TTFT p50 %s ms  TPOT p50 %s ms  %d ok / %d failed\n",
					bench.LevelName(s.Level), s.OutputThroughput, bench.FormatMs(s.TTFT.P50), bench.FormatMs(s.TPOT.P50), s.Completed, s.Failed)
			}
		}})
	if errors.Is(err, rundir.ErrExists) {
		return usageErr("%v", err)
	}
	return err
}

// runTarget is the experiment a run or a resume is of: the name given, or
// the one the resumed run's plan.json names (both, when they agree).
func runTarget(pos []string, resume string) (string, error) {
	if resume == "" {
		if len(pos) != 1 {
			return "", usageErr("run wants one experiment name (or --resume RUN_DIR)")
		}
		return pos[0], nil
	}
	p, err := readPlan(filepath.Join(resume, rundir.PlanFile))
	if err != nil {
		return "", usageErr("--resume %s: %v", resume, err)
	}
	if len(pos) > 1 || len(pos) == 1 && pos[0] != p.Experiment {
		return "", usageErr("--resume %s is a run of %s; give no other experiment name", resume, p.Experiment)
	}
	return p.Experiment, nil
}
