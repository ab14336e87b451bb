package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/engine"
	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/twin"
)

func runTwin(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "twin", "--experiment NAME | --plan PLAN.json [--listen 127.0.0.1:PORT] [--time-scale X] [--fault SPEC]")
	name := fs.String("experiment", "", "experiment to serve")
	planPath := fs.String("plan", "", "plan JSON (instead of --experiment)")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	listen := fs.String("listen", "", "address (default 127.0.0.1:<engine port>)")
	scale := fs.Float64("time-scale", 1, "modelled seconds per wall second (>1 runs faster; shown in /version)")
	faultSpec := fs.String("fault", "", "inject faults, e.g. error=0.1,cut=0.05,stall=0.1:2s,slow_first=0.2:500ms,malformed=0.01")
	seed := fs.Int64("seed", 0, "seed of the generated text and of fault selection")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	faults, err := twin.ParseFaults(*faultSpec)
	if err != nil {
		return usageErr("--fault: %v", err)
	}
	if err := twin.CheckTimeScale(*scale); err != nil {
		return usageErr("--time-scale: %v", err)
	}
	p, err := planFor(env, *planPath, *dir, *name, nil)
	if err != nil {
		return err
	}
	if *listen == "" {
		*listen = fmt.Sprintf("127.0.0.1:%d", p.Engine.Port)
	}
	t, err := engine.NewTwin(p, *listen, engine.TwinOptions{TimeScale: *scale, Faults: faults, Seed: *seed})
	if errors.Is(err, engine.ErrNotLoopback) {
		return usageErr("--listen %v", err)
	} else if err != nil {
		return usageErr("--listen %q: %v", *listen, err)
	}
	fmt.Fprintf(env.Stderr, "twin: serving %s (%s on %s, time scale %g) on http://%s\n", p.Model.ServedName, p.Experiment, p.Hardware.GPU, *scale, t.Addr)
	return t.Serve(ctx)
}

func runPredict(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "predict", "NAME [--out DIR | --results DIR [--compare RUN]] [--experiments DIR] [--find-max --concurrency A,B | --rate A,B]")
	planPath := fs.String("plan", "", "plan JSON (instead of NAME)")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	out := fs.String("out", "", "write <level>.jsonl and <level>.summary.json here (default: print a table only)")
	results, compare := fs.String("results", "", "record the prediction as a run under DIR/NAME.predicted/, priced, charted and reported"), fs.String("compare", "", "with --results: runs to report it with")
	conc, rate := fs.String("concurrency", "", "with --find-max: the closed-loop search range"), fs.String("rate", "", "with --find-max: the open-loop search range (requests/s)")
	var sf searchFlags
	sf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || len(pos) == 0 && *planPath == "" {
		return usageErr("predict wants one experiment name (or --plan)")
	}
	p, err := planFor(env, *planPath, *dir, strings.Join(pos, ""), nil)
	if err != nil {
		return err
	}
	if *results != "" {
		_, err := pipeline.PredictRun(ctx, pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, p, *results, *compare)
		return err
	}
	var search *bench.Search
	if sf.on {
		levels, err := bench.ParseLevels(*conc, *rate)
		if err != nil {
			return usageErr("%v", err)
		}
		if search, err = sf.over(levels, pipeline.SLO(p)); err != nil {
			return err
		}
	}
	lrs, sums, res, err := pipeline.PredictOrSearch(ctx, p, search, "predict")
	if err != nil {
		return err
	}
	if search != nil {
		defer fmt.Fprintln(env.Stdout, res.Statement(*search))
	}
	bench.PrintTable(env.Stdout, sums)
	if *out != "" {
		return bench.WriteLevels(*out, lrs, sums)
	}
	return nil
}
