package pipeline

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// WriteRetention writes the paired retention of candDir's eval runs
// against baseDir's to out (default: candDir/eval/retention.json, or
// noise-floor.json for two runs of the same revision).
func WriteRetention(env Out, baseDir, candDir, out string) error {
	base, err := eval.LoadSides(baseDir)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	cand, err := eval.LoadSides(candDir)
	if err != nil {
		return fmt.Errorf("%v", err)
	}
	if len(base) == 0 || len(cand) == 0 {
		return fmt.Errorf("no eval runs in %s", map[bool]string{true: baseDir, false: candDir}[len(base) == 0])
	}
	if out == "" {
		name := eval.RetentionFile
		if base[0].Run.Model.Revision == cand[0].Run.Model.Revision {
			name = "noise-floor.json"
		}
		out = filepath.Join(candDir, rundir.EvalDir, name)
	}
	rep, err := eval.RetainSides(base, cand, filepath.Dir(out), eval.PairOptions{})
	if err != nil {
		return fmt.Errorf("retention: %v", err)
	}
	if err := eval.WriteRetention(out, rep); err != nil {
		return fmt.Errorf("%v", err)
	}
	if b, err := os.ReadFile(out); err != nil {
		return fmt.Errorf("%v", err)
	} else if probs, err := schemas.ValidateJSON(schemas.EvalRetention, b); err != nil || len(probs) > 0 {
		return fmt.Errorf("%s does not match its schema: %v %v", out, err, probs)
	}
	for _, t := range rep.Tasks {
		ratio := "n/a (baseline 0)"
		if t.Ratio != nil {
			ratio = fmt.Sprintf("%.1f %%", 100**t.Ratio)
		}
		flips := ""
		if f := t.Flips; f != nil {
			flips = fmt.Sprintf(", lost %d gained %d, McNemar p=%.3g", f.Lost, f.Gained, f.McNemarP)
		}
		fmt.Fprintf(env.Stdout, "retention %s (%s): %s %.4f → %s %.4f, diff %+.4f [%+.4f, %+.4f], ratio %s on %d paired documents%s\n",
			t.Task, rep.Kind, rep.Baseline.Experiment, t.Baseline, rep.Candidate.Experiment, t.Candidate, t.Diff, t.DiffLow, t.DiffHigh, ratio, t.N, flips)
	}
	fmt.Fprintf(env.Stdout, "retention: %s\n", out)
	return nil
}

// RetentionFor writes the retention of a run against the latest run of the
// baseline its experiment names, when that baseline has eval results.
func RetentionFor(env Out, p *plan.Plan, runDir, resultsRoot string) error {
	if p.Eval == nil || p.Eval.Baseline == "" {
		return nil
	}
	baseRun, err := latestEvalRun(filepath.Join(resultsRoot, p.Eval.Baseline))
	if err != nil {
		fmt.Fprintf(env.Stderr, "retention: no eval run of baseline %s yet (%v); run it, then `forge retention BASELINE_RUN %s`\n", p.Eval.Baseline, err, runDir)
		return nil
	}
	return WriteRetention(env, baseRun, runDir, "")
}

// latestEvalRun is the latest complete run under dir (by start time)
// holding eval/*.json: an interrupted or failed baseline is never the one
// a retention is measured against.
func latestEvalRun(dir string) (string, error) {
	d, ok, _, err := rundir.LatestWhere(dir, func(d rundir.Dir) bool {
		m, _ := filepath.Glob(d.Path(rundir.EvalDir, "*.json"))
		return len(m) > 0
	})
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s has no complete run with eval/*.json", dir)
	}
	return string(d), nil
}
