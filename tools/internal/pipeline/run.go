package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/engine"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/report"
	"github.com/forge-bench/forge/tools/internal/results"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// Options are what `forge run` is told besides the plan.
type Options struct {
	Out
	ResultsRoot   string
	RunID         string // "" = UTC start time and commit
	Resume        string // a run directory to finish instead of a new run
	TimeScale     float64
	Compare       string // --compare, for the charts and report
	HealthTimeout time.Duration
	Parity        bool
	NoEval        bool
	Exporter      *bench.Exporter       // Forge's live metrics (nil: none)
	SweepDone     func(context.Context) // called after the last level, while the engine still runs
	InFlight      func() int            // requests in flight, for the Ctrl-C message (nil: not shown)
	// Measured is called once the sweep has ended and the run's state is
	// known, before anything is priced (nil: nothing), so a command can
	// print the levels before the cost.
	Measured func(*Result)
	// LevelDone is called after each level's state is recorded (nil:
	// nothing); a level's progress line for a caller, or a test's hook.
	LevelDone func(rundir.Level)
}

// Result is what a run left: its directory, state and the levels measured
// in this invocation.
type Result struct {
	Dir       rundir.Dir
	State     rundir.State
	Summaries []bench.Summary
}

// ErrIncomplete and ErrFailed are wrapped by the error of a run that did
// not complete; its directory and state say what is there.
var (
	ErrIncomplete = errors.New("run incomplete")
	ErrFailed     = errors.New("run failed")
)

// Run executes a plan end to end into a new run directory (or finishes the
// one named by Resume): start the engine, sweep every level while watching
// the engine, evaluate, stop the engine, predict, and, only for a complete
// run, price, chart and report. The engine is always stopped; what was
// measured stays on disk; the run's state says what it is at every point.
// A run that is not complete gets a report with its banner and no cost.
func Run(ctx context.Context, p *plan.Plan, o Options) (*Result, error) {
	o.Out = o.Out.locked()
	d, st, todo, err := open(p, o, time.Now())
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: d, State: st}
	save := func() {
		if err := d.WriteState(st); err != nil {
			fmt.Fprintf(o.Stderr, "run %s: %v\n", d.ID(), err)
		}
		res.State = st
	}
	fail := func(state, cause string) (*Result, error) {
		st.State, st.Cause, st.ForgePID = state, cause, 0
		save()
		return res, fmt.Errorf("%w: %s (kept in %s)", map[string]error{rundir.Failed: ErrFailed, rundir.Incomplete: ErrIncomplete}[state], cause, d)
	}
	// The requests first: a dataset that cannot be resolved must fail the
	// run before a GPU engine spends minutes starting.
	cfg, seq, err := BenchConfig(ctx, p)
	if err == nil {
		err = writeText(d, p, seq)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fail(rundir.Incomplete, "interrupted before the engine started")
		}
		return fail(rundir.Failed, err.Error())
	}
	eng, err := engine.Start(ctx, p, string(d), engine.Options{TimeScale: st.TimeScale, HealthTimeout: o.HealthTimeout, Log: o.Stderr})
	if err != nil {
		if ctx.Err() != nil {
			return fail(rundir.Incomplete, "interrupted while the engine was starting")
		}
		return fail(rundir.Failed, err.Error())
	}
	defer eng.Stop()
	startup := eng.CheckStartup(p, string(d), o.Stderr)
	fmt.Fprintf(o.Stderr, "run %s: server ready at %s\n", d.ID(), eng.URL)

	cfg.Client.BaseURL, cfg.Out, cfg.RunID = eng.URL, d.Path(rundir.BenchDir), d.ID()
	cfg.Client.Timeout, cfg.ScrapeInterval = 10*time.Minute, time.Second
	cfg.Progress, cfg.Declared.Startup, cfg.Exporter = o.Stderr, startup, o.Exporter

	sw := sweep{o: o, d: d, eng: eng, cfg: cfg, st: &st, save: save}
	if o.Parity {
		if sw.parity, err = newParity(p, string(d), seq, o.Resume != ""); err != nil {
			sw.parityErr = err
		}
	}
	died := sw.run(ctx, todo)
	res.Summaries = sw.sums
	if o.SweepDone != nil {
		o.SweepDone(ctx)
	}
	var evalErr error
	withEval := p.Eval != nil && p.Engine.Kind == "vllm" && !o.NoEval
	if withEval && died == "" && sw.benchErr == nil && ctx.Err() == nil {
		evalErr = Eval(ctx, o.Out, p, string(d), eng.URL, "")
	}
	eng.Stop()
	predict(o, p, d, seq)
	if probs, err := results.ValidateTree(string(d)); err != nil {
		return fail(rundir.Failed, err.Error())
	} else if len(probs) > 0 {
		for _, pr := range probs {
			fmt.Fprintln(o.Stderr, pr.String())
		}
		return fail(rundir.Failed, fmt.Sprintf("%d result file problem(s)", len(probs)))
	}
	switch {
	case died != "":
		st.State, st.Cause = rundir.Failed, died
	case sw.benchErr != nil:
		st.State, st.Cause = rundir.Failed, "bench: "+sw.benchErr.Error()
	case ctx.Err() != nil:
		st.State, st.Cause = rundir.Incomplete, "interrupted (Ctrl-C); finish it with `forge run --resume "+string(d)+"`"
	default:
		st.State, st.Cause = rundir.Complete, ""
	}
	st.ForgePID = 0
	save()
	if o.Measured != nil {
		o.Measured(res)
	}
	if st.State != rundir.Complete {
		// No price for a run that is not complete; a report that says so.
		if dirs, err := CompareDirs(string(d), o.Compare); err == nil {
			_ = Study(string(d), dirs, true, chartAndReport(o.Out))
		}
		return fail(st.State, st.Cause)
	}
	if _, err := PrintCost(o.Out, string(d), false); err != nil {
		return res, err
	}
	if withEval {
		// A failed task must not cost the tasks that succeeded their
		// retention; the run still exits non-zero naming the failed one.
		if err := RetentionFor(o.Out, p, string(d), o.ResultsRoot); err != nil && evalErr == nil {
			evalErr = err
		}
	}
	dirs, err := CompareDirs(string(d), o.Compare)
	if err != nil {
		return res, err
	}
	if err := Study(string(d), dirs, false, chartAndReport(o.Out)); err != nil {
		return res, err
	}
	if evalErr != nil {
		return res, evalErr
	}
	if sw.parityErr != nil {
		return res, sw.parityErr
	}
	if sw.parity != nil {
		return res, ParityVerdict(o.Out, string(d), sw.counts, sw.timings)
	}
	return res, nil
}

// chartAndReport draws the charts and writes the report of a study.
func chartAndReport(o Out) StudyFunc {
	return func(st *report.Study, out string) error {
		files, err := Charts(st, out)
		if err != nil {
			return err
		}
		path, err := Report(st, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "report: %s (%d chart files in %s)\n", path, len(files), filepath.Join(out, rundir.ChartsDir))
		return nil
	}
}

// predict writes the twin's prediction of the same plan and requests into
// predicted/, so charts show how far the model is from the engine. The
// twin models GPUs only: a CPU run has no prediction.
func predict(o Options, p *plan.Plan, d rundir.Dir, seq Sequence) {
	if p.Hardware.Device == "cpu" {
		fmt.Fprintf(o.Stderr, "run %s: no prediction: the twin models GPUs, not vLLM's CPU build\n", d.ID())
		return
	}
	lrs, sums := PredictSequence(p, seq, d.ID())
	if err := bench.WriteLevels(d.Path(rundir.PredictedDir), lrs, sums); err != nil {
		fmt.Fprintf(o.Stderr, "run %s: no prediction: %v\n", d.ID(), err)
	}
}

// open creates the run directory, or reopens the one to resume, and says
// which levels are still to run.
func open(p *plan.Plan, o Options, now time.Time) (rundir.Dir, rundir.State, []plan.Level, error) {
	if o.Resume != "" {
		return resume(p, o, now)
	}
	if p.Sweep.Search != nil {
		// A search's levels are its probes, known only as it goes.
		d, st, err := newRun(o.ResultsRoot, p.Experiment, p, o.RunID, now, cmp.Or(o.TimeScale, 1), nil)
		return d, st, nil, err
	}
	var levels []rundir.Level
	for _, l := range p.Sweep.Levels {
		levels = append(levels, rundir.Level{Name: levelName(l), State: "missing", Prompts: p.Sweep.PromptsPerLevel})
	}
	d, st, err := newRun(o.ResultsRoot, p.Experiment, p, o.RunID, now, cmp.Or(o.TimeScale, 1), levels)
	return d, st, p.Sweep.Levels, err
}

// newRun creates a run directory (id "" = the start time and commit) in
// state running, this process running it.
func newRun(root, name string, p *plan.Plan, id string, now time.Time, scale float64, levels []rundir.Level) (rundir.Dir, rundir.State, error) {
	data, err := plan.Encode(p)
	if err != nil {
		return "", rundir.State{}, err
	}
	st := rundir.State{State: rundir.Running, StartedAt: now.UTC().Format(rundir.StartedAtFormat), PlanHash: p.Hash, TimeScale: scale, ForgePID: os.Getpid(), Levels: levels}
	d, err := rundir.Create(root, name, cmp.Or(id, rundir.NewID(now, buildinfo.Short())), data, st)
	return d, st, err
}

func levelName(l plan.Level) string {
	return bench.LevelName(bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index})
}
