// Package eval holds quality evaluation results (schema forge.eval.run/v1)
// and the retention of a quantized model against its baseline.
package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// Run is one eval/*.json file.
type Run struct {
	Schema      string  `json:"schema"`
	RunID       string  `json:"run_id"`
	Experiment  string  `json:"experiment"`
	Model       Model   `json:"model"`
	Harness     Harness `json:"harness"`
	StartedAt   string  `json:"started_at"`
	Tasks       []Task  `json:"tasks"`
	SamplesFile string  `json:"samples_file,omitempty"`
	// API names the hosted API evaluated (forge eval --api); absent when
	// the study's own server was.
	API        *API              `json:"api,omitempty"`
	Provenance provenance.Record `json:"provenance"`
}

// API is the hosted API an eval ran against. KeyEnv names the environment
// variable the key was read from; the key itself is never written.
type API struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	BaseURL  string `json:"base_url"`
	KeyEnv   string `json:"key_env"`
	Format   string `json:"format"`
}

// Model is the evaluated model, pinned.
type Model struct {
	Repo       string `json:"repo"`
	Revision   string `json:"revision"`
	ServedName string `json:"served_name"`
}

// MarshalJSON writes an empty revision as null: a hosted API's weights
// cannot be pinned, and null says so where "" would look like a missing
// value. Unmarshalling null leaves the string empty.
func (m Model) MarshalJSON() ([]byte, error) {
	var rev *string
	if m.Revision != "" {
		rev = &m.Revision
	}
	return json.Marshal(struct {
		Repo       string  `json:"repo"`
		Revision   *string `json:"revision"`
		ServedName string  `json:"served_name"`
	}{m.Repo, rev, m.ServedName})
}

// Harness is the evaluation harness and its version.
type Harness struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// FewshotSeed is the seed lm-eval drew the few-shot examples with
	// (absent in records written before Forge recorded it).
	FewshotSeed *int `json:"fewshot_seed,omitempty"`
}

// Task is one task's score for one metric and filter.
type Task struct {
	Task     string   `json:"task"`
	Shots    int      `json:"shots"`
	Metric   string   `json:"metric"`
	Filter   string   `json:"filter"`
	Score    float64  `json:"score"`
	Stderr   *float64 `json:"stderr"`
	N        int      `json:"n"`
	TaskHash *string  `json:"task_hash"`
	Limit    *int     `json:"limit"`
	// FewshotSource says where the shots came from when it is not only
	// the task's own rule (absent in records written before Forge said).
	FewshotSource string `json:"fewshot_source,omitempty"`
	// Truncated counts the requests lm-eval left-truncated to max_length
	// (its "Left truncating context" warnings); absent where lm-eval does
	// not report truncation (generation tasks) and in older records.
	Truncated *int `json:"truncated,omitempty"`
	// Subjects lists the MMLU subjects scored when the experiment chose a
	// subset: a partial score, not MMLU's.
	Subjects []string `json:"subjects,omitempty"`
}

// Load reads every eval/*.json of a run directory whose schema is an eval
// run, in name order; none is not an error.
func Load(runDir string) ([]Run, []string, error) {
	paths, err := filepath.Glob(filepath.Join(runDir, Dir, "*.json"))
	if err != nil {
		return nil, nil, err
	}
	var out []Run
	var files []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		var r Run
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		if r.Schema != schemas.EvalRun {
			continue
		}
		out = append(out, r)
		files = append(files, filepath.ToSlash(filepath.Join(Dir, filepath.Base(p))))
	}
	return out, files, nil
}

// Retention compares one task of the quantized model with its baseline.
type Retention struct {
	Task, Metric, Filter string
	Shots                int
	Baseline, Quant      Task
	Ratio                float64  // quant / baseline
	Difference           float64  // quant − baseline
	Low, High            *float64 // 95 % interval of the ratio, when both stderrs are known
	Method               string
	// Paired is the paired comparison on the same documents (retention.json),
	// when the candidate run has one against this baseline run; Ratio,
	// Difference, Low, High and Method then come from it.
	Paired *TaskRetention
}

// ApplyPaired replaces the unpaired figures of rs with the paired ones of
// rep, task by task (same task, metric, filter and shots).
func ApplyPaired(rs []Retention, rep *RetentionReport) []Retention {
	out := append([]Retention(nil), rs...)
	for i := range out {
		r := &out[i]
		for j := range rep.Tasks {
			tr := &rep.Tasks[j]
			if tr.Task != r.Task || tr.Metric != r.Metric || tr.Filter != r.Filter || tr.Shots != r.Shots {
				continue
			}
			r.Paired, r.Difference = tr, tr.Diff
			r.Ratio, r.Low, r.High = math.NaN(), tr.RatioLow, tr.RatioHigh
			if tr.Ratio != nil {
				r.Ratio = *tr.Ratio
			}
			r.Method = fmt.Sprintf("paired on %d documents, bootstrap %d", tr.N, tr.Resamples)
			if f := tr.Flips; f != nil {
				r.Method += fmt.Sprintf("; lost %d, gained %d, McNemar p = %.3g", f.Lost, f.Gained, f.McNemarP)
			}
		}
	}
	return out
}

// Retain pairs the tasks of two evaluations on (task, metric, filter, shots).
// Without per-sample results the interval treats the two scores as
// independent (delta method on the ratio), which is wider than a paired
// test on the same documents would give.
func Retain(base, quant []Run) []Retention {
	type key struct {
		task, metric, filter string
		shots                int
	}
	baseline := map[key]Task{}
	for _, r := range base {
		for _, t := range r.Tasks {
			baseline[key{t.Task, t.Metric, t.Filter, t.Shots}] = t
		}
	}
	var out []Retention
	for _, r := range quant {
		for _, t := range r.Tasks {
			b, ok := baseline[key{t.Task, t.Metric, t.Filter, t.Shots}]
			if !ok {
				continue
			}
			rt := Retention{Task: t.Task, Metric: t.Metric, Filter: t.Filter, Shots: t.Shots, Baseline: b, Quant: t,
				Ratio: math.NaN(), Difference: t.Score - b.Score, Method: "independent (delta method on stderr)"}
			if b.Score != 0 {
				rt.Ratio = t.Score / b.Score
			}
			if b.Stderr != nil && t.Stderr != nil && t.Score != 0 && b.Score != 0 {
				se := rt.Ratio * math.Sqrt(math.Pow(*t.Stderr/t.Score, 2)+math.Pow(*b.Stderr/b.Score, 2))
				lo, hi := rt.Ratio-1.96*se, rt.Ratio+1.96*se
				rt.Low, rt.High = &lo, &hi
			}
			out = append(out, rt)
		}
	}
	return out
}
