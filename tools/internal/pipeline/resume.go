package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// resume reopens a run directory to finish it: the plan must be the one
// the run started with (same hash), the complete levels are kept, and the
// missing or incomplete ones are cleared and run again at the run's own
// time scale, so that every level of the directory comes from one plan and
// one scale.
func resume(p *plan.Plan, o Options, now time.Time) (rundir.Dir, rundir.State, []plan.Level, error) {
	d := rundir.Dir(o.Resume)
	if p.Sweep.Search != nil {
		// Which probe comes next depends on every probe before it, and a
		// cut probe's load would be measured twice; a search starts over.
		return "", rundir.State{}, nil, fmt.Errorf("--resume %s: a find-max search (sweep.search) does not resume; its probes are kept there, start a new run", d)
	}
	data, err := os.ReadFile(d.Path(rundir.PlanFile))
	if err != nil {
		return "", rundir.State{}, nil, fmt.Errorf("--resume %s: not a run directory: %w", d, err)
	}
	var old plan.Plan
	if err := json.Unmarshal(data, &old); err != nil {
		return "", rundir.State{}, nil, fmt.Errorf("--resume %s: %w", d.Path(rundir.PlanFile), err)
	}
	if old.Hash != p.Hash {
		return "", rundir.State{}, nil, fmt.Errorf("--resume %s: the plan changed since the run started (hash %s, now %s): its levels would mix two plans; give the --var flags the run started with, or start a new run", d, old.Hash, p.Hash)
	}
	st, err := d.ReadState()
	if err != nil {
		return "", rundir.State{}, nil, err
	}
	switch st.State {
	case rundir.Running:
		return "", rundir.State{}, nil, fmt.Errorf("--resume %s: the run is still running (forge pid %d)", d, st.ForgePID)
	case rundir.Complete:
		return "", rundir.State{}, nil, fmt.Errorf("--resume %s: the run is already complete", d)
	}
	if st.TimeScale <= 0 {
		st.TimeScale = 1
	}
	if o.TimeScale > 0 && o.TimeScale != st.TimeScale {
		fmt.Fprintf(o.Stderr, "run %s: resuming at the run's own time scale %g, not %g\n", d.ID(), st.TimeScale, o.TimeScale)
	}
	kept := map[string]bool{}
	for _, l := range st.Levels {
		kept[l.Name] = l.State == rundir.Complete
	}
	var todo []plan.Level
	levels := make([]rundir.Level, 0, len(p.Sweep.Levels))
	for _, l := range p.Sweep.Levels {
		name := levelName(l)
		lv := rundir.Level{Name: name, State: "missing", Prompts: p.Sweep.PromptsPerLevel}
		s, ok := completeSummary(d, name, len(st.Levels) == 0 || kept[name])
		if ok {
			lv.State, lv.Completed, lv.Failed = rundir.Complete, s.Completed, s.Failed
			levels = append(levels, lv)
			continue
		}
		for _, f := range []string{name + bench.RecordsExt, name + bench.SummaryExt} {
			if err := os.Remove(d.Path(rundir.BenchDir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", rundir.State{}, nil, err
			}
		}
		levels = append(levels, lv)
		todo = append(todo, l)
	}
	// A price or report of the unfinished run must not outlive it: the
	// resumed run writes its own, or its banner report if it fails again.
	for _, f := range []string{rundir.CostFile, rundir.ReportFile, rundir.StudyFile, rundir.ChartsDir} {
		if err := os.RemoveAll(d.Path(f)); err != nil {
			return "", rundir.State{}, nil, err
		}
	}
	st.Levels, st.State, st.Cause, st.ForgePID = levels, rundir.Running, "", os.Getpid()
	st.Resumed = append(st.Resumed, now.UTC().Format(time.RFC3339))
	if err := d.WriteState(st); err != nil {
		return "", rundir.State{}, nil, err
	}
	fmt.Fprintf(o.Stderr, "run %s: resuming, %d of %d level(s) kept, %d to run\n", d.ID(), len(levels)-len(todo), len(levels), len(todo))
	return d, st, todo, nil
}

// completeSummary reads a level's summary when the state calls it complete
// (or there is no state): it must parse and not be marked incomplete.
func completeSummary(d rundir.Dir, name string, candidate bool) (bench.Summary, bool) {
	var s bench.Summary
	if !candidate {
		return s, false
	}
	b, err := os.ReadFile(d.Path(rundir.BenchDir, name+bench.SummaryExt))
	if err != nil || json.Unmarshal(b, &s) != nil || s.Incomplete {
		return s, false
	}
	return s, true
}
