package cli

import (
	"context"
	"fmt"

	"github.com/forge-bench/forge/tools/internal/pipeline"
	"github.com/forge-bench/forge/tools/internal/report"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// runChart draws the charts (five and the TCO) for the given runs, or, with no runs,
// regenerates every chart set under results/ from its study.json.
func runChart(_ context.Context, env Env, args []string) error {
	return studyCommand(env, "chart", args, func(st *report.Study, out string) error {
		files, err := pipeline.Charts(st, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "charts: %d files in %s\n", len(files), rundir.Dir(out).Path(rundir.ChartsDir))
		return nil
	})
}

// runReport writes report.md for the given runs, or regenerates every
// report under results/.
func runReport(_ context.Context, env Env, args []string) error {
	return studyCommand(env, "report", args, func(st *report.Study, out string) error {
		path, err := pipeline.Report(st, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "report: %s\n", path)
		return nil
	})
}

// studyCommand resolves RESULTS... to run directories and calls do with
// the output directory (--out, default the first run). Without RESULTS it
// regenerates every study found under --results.
func studyCommand(env Env, name string, args []string, do pipeline.StudyFunc) error {
	fs := newFlags(env, name, "[RESULTS...] [--out DIR] [--allow-incomplete] (no RESULTS: regenerate every study.json under --results)")
	out := fs.String("out", "", "write here (default: the first run's directory)")
	root := fs.String("results", "results", "results root, for regenerating")
	allow := fs.Bool("allow-incomplete", false, "include runs that are not complete; every output then carries their INCOMPLETE banner")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		n, err := pipeline.Regenerate(*root, do)
		if err == nil && n == 0 {
			fmt.Fprintf(env.Stderr, "no %s under %s: nothing to regenerate (run `make run` first)\n", rundir.StudyFile, *root)
		}
		return err
	}
	dirs, err := rundir.Resolve(pos)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = dirs[0]
	}
	return pipeline.Study(*out, dirs, *allow, do)
}
