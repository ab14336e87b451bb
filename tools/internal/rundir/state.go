package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/proc"
)

// A run's states. Only a complete run may be priced without
// --allow-incomplete; "latest" means the latest complete run.
const (
	Running    = "running"    // Forge is (or was, until it was killed) running it
	Complete   = "complete"   // every level measured in full, every stage done
	Incomplete = "incomplete" // stopped by the user; what finished is kept
	Failed     = "failed"     // the engine died or a stage failed; Cause says why
)

// Level is one sweep level's state as the run left it.
type Level struct {
	Name      string `json:"name"`
	State     string `json:"state"` // complete, incomplete, failed or missing
	Completed int    `json:"completed"`
	Failed    int    `json:"failed"`
	Prompts   int    `json:"prompts"`
}

// State is state.json: one place that says what a run is.
type State struct {
	Schema    string   `json:"schema"`
	State     string   `json:"state"`
	Cause     string   `json:"cause,omitempty"`
	StartedAt string   `json:"started_at"`
	UpdatedAt string   `json:"updated_at"`
	PlanHash  string   `json:"plan_hash"`
	TimeScale float64  `json:"time_scale"`
	ForgePID  int      `json:"forge_pid,omitempty"`
	Resumed   []string `json:"resumed,omitempty"` // start times of later `forge run --resume`
	Levels    []Level  `json:"levels"`
}

// WriteState records st (atomically), stamping UpdatedAt.
func (d Dir) WriteState(st State) error {
	st.Schema = schemas.RunState
	st.UpdatedAt = time.Now().UTC().Format(time.RFC3339)
	if st.Levels == nil {
		st.Levels = []Level{}
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(d.Path(StateFile), append(b, '\n'))
}

// ReadState reads state.json. A run directory written before states
// existed has none: it is reported as complete when it has a cost.json (the
// old pipeline wrote one only after a full sweep) and incomplete otherwise.
// A "running" state whose Forge process is gone (SIGKILL, power loss) is
// reported as incomplete, with that cause.
func (d Dir) ReadState() (State, error) {
	b, err := os.ReadFile(d.Path(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		st := State{State: Incomplete, Cause: "no state.json (a run from before Forge recorded states) and no cost.json"}
		if _, err := os.Stat(d.Path(CostFile)); err == nil {
			st = State{State: Complete, Cause: "no state.json (a run from before Forge recorded states); complete because it has a cost.json"}
		}
		if fi, err := os.Stat(d.Path(PlanFile)); err == nil {
			st.StartedAt = fi.ModTime().UTC().Format(time.RFC3339)
		}
		return st, nil
	}
	if err != nil {
		return State{}, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("%s: %w", d.Path(StateFile), err)
	}
	if st.State == Running && (st.ForgePID == 0 || !proc.PidAlive(st.ForgePID)) {
		st.State = Incomplete
		st.Cause = fmt.Sprintf("Forge (pid %d) stopped while the run was running (killed?); finish it with `forge run --resume %s`", st.ForgePID, d)
	}
	return st, nil
}

// Banner says what an incomplete or failed run lacks, naming the levels
// and their counts, for cost.json, report.md and chart titles; "" for a
// complete run.
func (st State) Banner() string {
	if st.State == Complete {
		return ""
	}
	var parts []string
	for _, l := range st.Levels {
		if l.State != Complete {
			parts = append(parts, fmt.Sprintf("%s %s (%d of %d requests ok, %d failed)", l.Name, l.State, l.Completed, l.Prompts, l.Failed))
		}
	}
	s := "INCOMPLETE RUN"
	if st.State == Failed {
		s = "FAILED RUN"
	}
	if st.Cause != "" {
		s += ": " + st.Cause
	}
	if len(parts) > 0 {
		s += "; levels not complete: " + strings.Join(parts, ", ")
	}
	return s
}

// ErrNotComplete is wrapped by Require for a run that is not complete.
var ErrNotComplete = errors.New("run is not complete")

// Require returns an error wrapping ErrNotComplete unless the run is
// complete or allowIncomplete is set.
func (r *Run) Require(allowIncomplete bool) error {
	if r.State.State != Complete && !allowIncomplete {
		return fmt.Errorf("%s: %w: %s; finish it with `forge run --resume %s`, or pass --allow-incomplete to use it anyway (every output then says INCOMPLETE)", r.Dir, ErrNotComplete, r.State.Banner(), r.Dir)
	}
	return nil
}

// StopEngine ends the engine a run left behind (Forge itself was killed
// with SIGKILL and could not stop it), from the run's pidfile.
func (d Dir) StopEngine(grace time.Duration) (pid int, stopped bool, err error) {
	if st, err := d.ReadState(); err == nil && st.State == Running {
		return 0, false, fmt.Errorf("%s is still running (forge pid %d): stop that forge (Ctrl-C), which stops its engine", d, st.ForgePID)
	}
	pid, err = proc.ReadPidfile(d.Path(Pidfile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if stopped, err = proc.StopGroup(pid, grace); err != nil {
		return pid, false, err
	}
	_ = os.Remove(d.Path(Pidfile))
	return pid, stopped, nil
}

// runsOf lists the run directories directly under an experiment directory.
func runsOf(dir string) ([]Dir, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist", dir)
		}
		return nil, err
	}
	var out []Dir
	for _, e := range entries {
		if e.IsDir() && IsRun(filepath.Join(dir, e.Name())) {
			out = append(out, Dir(filepath.Join(dir, e.Name())))
		}
	}
	return out, nil
}

// StartedAtFormat is how a run's start is written: RFC 3339 in UTC with
// microseconds, so that two runs started in the same second still order
// (Latest compares the parsed times; records with whole seconds parse too).
const StartedAtFormat = "2006-01-02T15:04:05.000000Z07:00"

// Latest is the latest complete run under an experiment directory, by start
// time (then name): an interrupted or failed run is never "the latest".
// ok is false when there is none; skipped counts the runs passed over.
func Latest(experimentDir string) (d Dir, ok bool, skipped int, err error) {
	return LatestWhere(experimentDir, nil)
}

// LatestWhere is Latest among the complete runs that keep accepts (nil:
// all), e.g. the latest complete run holding eval records.
func LatestWhere(experimentDir string, keep func(Dir) bool) (d Dir, ok bool, skipped int, err error) {
	all, err := runsOf(experimentDir)
	if err != nil {
		return "", false, 0, err
	}
	type cand struct {
		d     Dir
		start time.Time
	}
	var cs []cand
	for _, r := range all {
		st, err := r.ReadState()
		if err != nil || st.State != Complete || keep != nil && !keep(r) {
			skipped++
			continue
		}
		start, _ := time.Parse(time.RFC3339Nano, st.StartedAt) // unparsable: zero, the earliest
		cs = append(cs, cand{r, start})
	}
	if len(cs) == 0 {
		return "", false, skipped, nil
	}
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].start.Equal(cs[j].start) {
			return cs[i].start.Before(cs[j].start)
		}
		return cs[i].d < cs[j].d
	})
	return cs[len(cs)-1].d, true, skipped, nil
}
