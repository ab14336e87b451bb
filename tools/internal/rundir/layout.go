// Package rundir owns results/<experiment>/<run-id>/: the names of the
// files and directories in it, creating one (never reusing one that
// exists), the run's state (running, complete, incomplete, failed), reading
// it back for later stages, and which run "the latest" is. No other package
// builds a path inside a run directory from its own string constants, so
// the layout can be read, checked and changed in one place.
package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/results"
)

// The files and directories of a run directory.
const (
	PlanFile     = "plan.json"    // the resolved plan the run ran
	StateFile    = "state.json"   // the run's state, see State
	BenchDir     = "bench"        // forge bench: <level>.jsonl and <level>.summary.json
	PredictedDir = "predicted"    // the twin's prediction of the same plan and requests
	EvalDir      = eval.Dir       // lm-eval records, samples, retention
	ParityDir    = "parity"       // vllm bench serve on the same levels
	TextFile     = "text.json"    // the measured prompts' characters and tokens per tokenizer (textcount)
	CostFile     = "cost.json"    // forge cost
	ChartsDir    = "charts"       // forge chart
	ReportFile   = "report.md"    // forge report
	StudyFile    = "study.json"   // the runs a report and its charts cover
	ServerLog    = "server.log"   // the engine's output
	Pidfile      = "server.pid"   // the engine's process group, while it runs
	RawDir       = results.RawDir // external tools' own files, no Forge schema (the validator skips them)
	ParityTable  = "parity.md"    // in ParityDir
	ImportedDir  = "vllm-bench"   // in ParityDir: vllm bench serve results as Forge summaries
	runIDLayout  = "20060102T150405Z"
	maxRunIDSize = 128
)

// Dir is one run directory.
type Dir string

// Path joins elements below the run directory.
func (d Dir) Path(elem ...string) string {
	return filepath.Join(append([]string{string(d)}, elem...)...)
}

// ID is the run id: the directory's name.
func (d Dir) ID() string { return filepath.Base(string(d)) }

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// NewID is a run id from the UTC start time and the commit, so that ids
// sort by start time within one experiment.
func NewID(now time.Time, commit string) string {
	return Timestamp(now) + "-" + commit
}

// Timestamp is the UTC time as run ids begin with it (20060102T150405Z),
// also the default run id of a sweep outside a run directory.
func Timestamp(now time.Time) string {
	return now.UTC().Format(runIDLayout)
}

// APIEvalSuffix marks the directory of an experiment's evals of a hosted
// API (forge eval --api): results/<experiment>.api.<api>/<runID>/, apart
// from the experiment's own runs so that no "latest run" of the experiment
// is ever an API's.
const APIEvalSuffix = ".api."

// APIEvalDir is the experiment directory name of an experiment's evals of
// one API.
func APIEvalDir(experiment, api string) string { return experiment + APIEvalSuffix + api }

// PredictedSuffix marks the directory of an experiment's predicted runs
// (forge predict NAME --results): results/<experiment>.predicted/<runID>/,
// apart from its measured runs, so that a prediction is never the
// experiment's latest run.
const PredictedSuffix = ".predicted"

// ErrExists is returned by Create for a run directory that already exists.
var ErrExists = errors.New("run directory already exists")

// CheckID says whether runID can name a run directory: it stays inside
// the results tree and is a portable file name.
func CheckID(runID string) error {
	if !runIDPattern.MatchString(runID) || len(runID) > maxRunIDSize || strings.Contains(runID, "..") {
		return fmt.Errorf("run id %q: use letters, digits, '.', '_' and '-' only (at most %d characters), no path separators or \"..\"", clipID(runID), maxRunIDSize)
	}
	return nil
}

func clipID(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Create makes results/<experiment>/<runID>/ and refuses one that exists:
// a rerun into the same directory would overwrite some levels and keep
// others, and the mix would look like one run. It writes the plan and the
// state "running".
func Create(resultsRoot, experiment, runID string, planJSON []byte, st State) (Dir, error) {
	if err := CheckID(runID); err != nil {
		return "", err
	}
	parent := filepath.Join(resultsRoot, experiment)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	d := Dir(filepath.Join(parent, runID))
	if err := os.Mkdir(string(d), 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("%s: %w; choose another --run-id, or finish it with `forge run --resume %s`", d, ErrExists, d)
		}
		return "", err
	}
	if err := WriteFileAtomic(d.Path(PlanFile), planJSON); err != nil {
		return "", err
	}
	if err := d.WriteState(st); err != nil {
		return "", err
	}
	return d, nil
}

// WriteFileAtomic writes data to path in full or not at all: a reader (or
// a crash) never sees half a file. bench owns the one implementation.
func WriteFileAtomic(path string, data []byte) error {
	return bench.WriteFileAtomic(path, data)
}
