// Reading a run directory back the way later stages (cost, chart, report,
// verify) see it, and resolving command-line arguments to run directories.

package rundir

import (
	"encoding/json"
	"fmt"
	"github.com/forge-bench/forge/tools/internal/textcount"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// Run is one results/<experiment>/<run-id>/ directory as later stages read
// it: the plan, the measured level summaries (bench/), the twin's
// prediction for the same plan (predicted/), and the files they came from.
type Run struct {
	Dir            string
	Plan           *plan.Plan
	Summaries      []bench.Summary
	SummaryFiles   []string // relative to Dir, same order
	Predicted      []bench.Summary
	PredictedFiles []string
	State          State
	// Text is text.json, nil for a workload of synthetic tokens or a run
	// recorded before Forge wrote one.
	Text *textcount.Record
}

// Label names the run in charts and tables: the experiment and its precision.
func (r *Run) Label() string {
	return r.Plan.Experiment + " · " + Precision(r.Plan)
}

// Precision is "BF16", "AWQ-INT4" and the like, from the plan's model.
func Precision(p *plan.Plan) string {
	if q := p.Model.Quantization; q != nil {
		return fmt.Sprintf("%s-INT%d", strings.ToUpper(q.Method), q.Bits)
	}
	switch d := strings.ToLower(p.Model.Dtype); d {
	case "bfloat16", "bf16":
		return "BF16"
	case "float16", "fp16", "half":
		return "FP16"
	case "float32", "fp32":
		return "FP32"
	default:
		return strings.ToUpper(d)
	}
}

// LoadRun reads a run directory. A missing bench/ or predicted/ is not an
// error (a run may have been stopped, or only predicted); a missing or
// unreadable plan.json is.
func LoadRun(dir string) (*Run, error) {
	data, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a run directory: %w", dir, err)
	}
	r := &Run{Dir: dir, Plan: &plan.Plan{}}
	if err := json.Unmarshal(data, r.Plan); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "plan.json"), err)
	}
	if r.Summaries, r.SummaryFiles, err = loadSummaries(dir, BenchDir); err != nil {
		return nil, err
	}
	if r.Predicted, r.PredictedFiles, err = loadSummaries(dir, PredictedDir); err != nil {
		return nil, err
	}
	if r.State, err = Dir(dir).ReadState(); err != nil {
		return nil, err
	}
	if t, ok, err := textcount.Read(filepath.Join(dir, TextFile)); err != nil {
		return nil, err
	} else if ok {
		r.Text = &t
	}
	return r, nil
}

// loadSummaries reads sub/*.summary.json in level order (the file names
// start with the level index).
func loadSummaries(dir, sub string) ([]bench.Summary, []string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, sub, "*"+bench.SummaryExt))
	if err != nil {
		return nil, nil, err
	}
	var out []bench.Summary
	var rel []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		var s bench.Summary
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, s)
		rel = append(rel, filepath.ToSlash(filepath.Join(sub, filepath.Base(p))))
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return out[idx[a]].Level.Index < out[idx[b]].Level.Index })
	so, sr := make([]bench.Summary, len(out)), make([]string, len(out))
	for i, j := range idx {
		so[i], sr[i] = out[j], rel[j]
	}
	return so, sr, nil
}

// Resolve turns command-line arguments into run directories: a run
// directory is itself (whatever its state: the stage reading it decides);
// an experiment directory (results/<experiment>) is its latest complete run;
// the results root is the latest complete run of every experiment under it,
// in name order. An experiment with runs but none complete is an error that
// says so, never silently an incomplete run.
func Resolve(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if IsRun(a) {
			out = append(out, a)
			continue
		}
		if d, found, err := latestOf(a); err != nil {
			return nil, err
		} else if found {
			out = append(out, string(d))
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		found := false
		for _, e := range entries {
			if !e.IsDir() {
				continue
			}
			if d, ok, err := latestOf(filepath.Join(a, e.Name())); err == nil && ok {
				out = append(out, string(d))
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s holds no complete run directory (one with a plan.json); run `forge run NAME` first", a)
		}
	}
	return out, nil
}

// latestOf is Latest for an argument that may not be an experiment
// directory: found is false when dir holds no run directory at all, and an
// error says so when it holds runs but none complete.
func latestOf(dir string) (Dir, bool, error) {
	d, ok, skipped, err := Latest(dir)
	if err != nil || ok {
		return d, ok, err
	}
	if skipped > 0 {
		return "", false, fmt.Errorf("%s has %d run(s) and none complete; name one (%s/<run-id>) with --allow-incomplete, or finish it with `forge run --resume`", dir, skipped, dir)
	}
	return "", false, nil
}

// IsRun says whether dir is a run directory (it holds a plan.json).
func IsRun(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, PlanFile))
	return err == nil
}
