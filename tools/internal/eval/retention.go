package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/data"
)

// RetentionFile is where a run keeps its retention against its baseline.
const RetentionFile = "retention.json"

// Dir is the directory of a run that holds its eval records, samples and
// retention (rundir.EvalDir names it for the rest of Forge).
const Dir = "eval"

// RetentionReport is a retention record (schema forge.eval.retention/v1):
// per task, a candidate run's scores against a baseline run's on the same
// documents, paired by (task, filter, doc_id). Kind "noise_floor" is a model
// against itself (two runs of the same revision): the spread retention shows
// when nothing changed.
type RetentionReport struct {
	Schema    string          `json:"schema"`
	Kind      string          `json:"kind"`
	Baseline  RunRef          `json:"baseline"`
	Candidate RunRef          `json:"candidate"`
	Tasks     []TaskRetention `json:"tasks"`
	Inputs    []Input         `json:"inputs"`
}

// RunRef names one side of the comparison.
type RunRef struct {
	Experiment string `json:"experiment"`
	RunID      string `json:"run_id"`
	Model      Model  `json:"model"`
}

// Input is a file the figures were computed from, relative to the record.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// TaskRetention is one task's paired comparison. Ratio and its interval are
// null when the baseline scored 0 on the paired documents.
type TaskRetention struct {
	Task      string   `json:"task"`
	Metric    string   `json:"metric"`
	Filter    string   `json:"filter"`
	Shots     int      `json:"shots"`
	N         int      `json:"n"`
	Unpaired  int      `json:"unpaired"`
	Baseline  float64  `json:"baseline"`
	Candidate float64  `json:"candidate"`
	Diff      float64  `json:"diff"`
	DiffLow   float64  `json:"diff_ci_low"`
	DiffHigh  float64  `json:"diff_ci_high"`
	Ratio     *float64 `json:"ratio"`
	RatioLow  *float64 `json:"ratio_ci_low"`
	RatioHigh *float64 `json:"ratio_ci_high"`
	Level     float64  `json:"ci_level"`
	Resamples int      `json:"resamples"`
	Seed      uint64   `json:"seed"`
	Method    string   `json:"method"`
	Flips     *Flips   `json:"flips"`
}

// Side is one run's evaluation as Retention reads it: its run record, the
// directory its eval/ files sit in, and where lm-eval's samples are.
type Side struct {
	Run     Run
	RunFile string // the eval run file
	// Samples maps each experiment task to the lm-eval tasks whose samples
	// make it up (one, or a group's subtasks) and the directory holding them.
	Samples map[string]SampleSource
}

// SampleSource locates one task's per-document scores.
type SampleSource struct {
	Dir   string
	Tasks []string
}

// RetainSides computes the paired retention of every task both sides report
// (same task, metric, filter and shots). relTo is the directory the record
// will be written in: input paths are relative to it.
func RetainSides(base, cand []Side, relTo string, o PairOptions) (RetentionReport, error) {
	if len(base) == 0 || len(cand) == 0 {
		return RetentionReport{}, fmt.Errorf("retention needs eval runs on both sides")
	}
	out := RetentionReport{Schema: schemas.EvalRetention, Kind: "baseline",
		Baseline:  RunRef{base[0].Run.Experiment, base[0].Run.RunID, base[0].Run.Model},
		Candidate: RunRef{cand[0].Run.Experiment, cand[0].Run.RunID, cand[0].Run.Model},
		Tasks:     []TaskRetention{}, Inputs: []Input{}}
	if out.Baseline.Model.Revision == out.Candidate.Model.Revision {
		out.Kind = "noise_floor"
	}
	type key struct {
		task, metric, filter string
		shots                int
	}
	baseTask := map[key]Side{}
	for _, s := range base {
		for _, t := range s.Run.Tasks {
			baseTask[key{t.Task, t.Metric, t.Filter, t.Shots}] = s
		}
	}
	inputs := map[string]bool{}
	addInput := func(path string) error {
		rel, err := filepath.Rel(relTo, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if inputs[rel] {
			return nil
		}
		sum, err := data.FileSHA256(path)
		if err != nil {
			return err
		}
		inputs[rel] = true
		out.Inputs = append(out.Inputs, Input{Path: rel, SHA256: sum})
		return nil
	}
	for _, c := range cand {
		for _, t := range c.Run.Tasks {
			k := key{t.Task, t.Metric, t.Filter, t.Shots}
			b, ok := baseTask[k]
			if !ok {
				continue
			}
			bs, cs := b.Samples[t.Task], c.Samples[t.Task]
			bSamples, err := LoadSamplesFiltered(bs, t.Metric, t.Filter)
			if err != nil {
				return RetentionReport{}, fmt.Errorf("baseline %s: %w", t.Task, err)
			}
			cSamples, err := LoadSamplesFiltered(cs, t.Metric, t.Filter)
			if err != nil {
				return RetentionReport{}, fmt.Errorf("candidate %s: %w", t.Task, err)
			}
			p, err := RetainPaired(bSamples, cSamples, o)
			if err != nil {
				return RetentionReport{}, fmt.Errorf("%s: %w", t.Task, err)
			}
			tr := TaskRetention{Task: t.Task, Metric: t.Metric, Filter: t.Filter, Shots: t.Shots, N: p.N, Unpaired: p.Unpaired,
				Baseline: p.Baseline, Candidate: p.Quantized, Diff: p.Diff, DiffLow: p.DiffLow, DiffHigh: p.DiffHigh,
				Ratio: finitePtr(p.Ratio), RatioLow: finitePtr(p.RatioLow), RatioHigh: finitePtr(p.RatioHigh),
				Level: p.Level, Resamples: p.Resamples, Seed: p.Seed, Flips: p.Flips,
				Method: fmt.Sprintf("paired on (task, filter, doc_id); percentile bootstrap, %d resamples", p.Resamples)}
			if p.Flips != nil {
				tr.Method += "; McNemar exact test on the discordant documents"
			}
			out.Tasks = append(out.Tasks, tr)
			for _, f := range []string{b.RunFile, c.RunFile} {
				if err := addInput(f); err != nil {
					return RetentionReport{}, err
				}
			}
			for _, src := range []SampleSource{bs, cs} {
				files, err := samplesFiles(src)
				if err != nil {
					return RetentionReport{}, err
				}
				for _, f := range files {
					if err := addInput(f); err != nil {
						return RetentionReport{}, err
					}
				}
			}
		}
	}
	if len(out.Tasks) == 0 {
		return RetentionReport{}, fmt.Errorf("no task is reported by both %s and %s with the same metric, filter and shots", out.Baseline.Experiment, out.Candidate.Experiment)
	}
	return out, nil
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// LoadSamplesFiltered is LoadSamples keeping one filter's samples.
func LoadSamplesFiltered(src SampleSource, metric, filter string) ([]Sample, error) {
	all, err := LoadSamples(src.Dir, metric, src.Tasks)
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, s := range all {
		if s.Filter == filter {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no samples with filter %q", src.Dir, filter)
	}
	return out, nil
}

// WriteRetention writes the record as indented JSON.
func WriteRetention(path string, r RetentionReport) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadRetention reads a retention record; a missing file is (nil, nil).
func LoadRetention(path string) (*RetentionReport, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r RetentionReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// LoadSides reads the eval runs of a run directory (eval/*.json) with the
// lm-eval samples each names (samples_file: a directory holding one
// samples_<task>_<date>.jsonl per lm-eval task).
func LoadSides(runDir string) ([]Side, error) {
	runs, files, err := Load(runDir)
	if err != nil {
		return nil, err
	}
	var out []Side
	for i, r := range runs {
		s := Side{Run: r, RunFile: filepath.Join(runDir, filepath.FromSlash(files[i])), Samples: map[string]SampleSource{}}
		if r.SamplesFile != "" {
			dir := filepath.Join(runDir, Dir, filepath.FromSlash(r.SamplesFile))
			tasks, err := samplesTasks(dir)
			if err != nil {
				return nil, err
			}
			for _, t := range r.Tasks {
				s.Samples[t.Task] = SampleSource{Dir: dir, Tasks: tasks}
			}
		}
		out = append(out, s)
	}
	return out, nil
}
