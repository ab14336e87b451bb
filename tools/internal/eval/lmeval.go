package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// LMEval is what Forge reads from lm-evaluation-harness's results file
// (results_<date>.json, written by --output_path): per task, every
// "metric,filter" score with its stderr, the samples counted, the shots, the
// task hash, and the harness version. Fields are lm-eval 0.4's.
type LMEval struct {
	Version string // lm_eval_version
	Date    time.Time
	Limit   *int // config.limit
	// FewshotSeed is config.fewshot_seed: the seed of the few-shot
	// sampler, which decides which examples each prompt shows.
	FewshotSeed *int
	Tasks       map[string]LMEvalTask
}

// LMEvalTask is one task of a results file.
type LMEvalTask struct {
	Scores   map[string]float64  // "metric,filter" → value
	Stderrs  map[string]*float64 // "metric,filter" → stderr; nil when lm-eval wrote "N/A"
	N        int                 // n-samples.effective
	Shots    int                 // n-shot
	TaskHash string              // task_hashes
	// Counts is a group's documents per "metric,filter" (sample_count):
	// lm-eval gives groups no n-samples entry.
	Counts map[string]int
}

// ParseLMEval reads an lm-eval results file. name is used in errors.
func ParseLMEval(name string, b []byte) (*LMEval, error) {
	var raw struct {
		Results  map[string]map[string]json.RawMessage `json:"results"`
		NShot    map[string]int                        `json:"n-shot"`
		NSamples map[string]struct {
			Original  int `json:"original"`
			Effective int `json:"effective"`
		} `json:"n-samples"`
		TaskHashes map[string]string `json:"task_hashes"`
		Version    string            `json:"lm_eval_version"`
		Date       *float64          `json:"date"`
		Config     struct {
			Limit       *float64 `json:"limit"`
			FewshotSeed *int     `json:"fewshot_seed"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: not an lm-eval results file: %w", name, err)
	}
	if len(raw.Results) == 0 {
		return nil, fmt.Errorf("%s: no \"results\": not an lm-eval results file (results_<date>.json under --output_path)", name)
	}
	if raw.Version == "" {
		return nil, fmt.Errorf("%s: no lm_eval_version; Forge reads lm-eval 0.4 results files", name)
	}
	out := &LMEval{Version: raw.Version, FewshotSeed: raw.Config.FewshotSeed, Tasks: map[string]LMEvalTask{}}
	if raw.Date != nil {
		sec, frac := math.Modf(*raw.Date)
		out.Date = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	if l := raw.Config.Limit; l != nil {
		if *l != math.Trunc(*l) || *l < 1 {
			return nil, fmt.Errorf("%s: config.limit %v is a fraction of the data; Forge passes whole counts", name, *l)
		}
		n := int(*l)
		out.Limit = &n
	}
	for task, fields := range raw.Results {
		t := LMEvalTask{Scores: map[string]float64{}, Stderrs: map[string]*float64{}, Shots: raw.NShot[task], TaskHash: raw.TaskHashes[task]}
		if ns, ok := raw.NSamples[task]; ok {
			t.N = ns.Effective
		}
		for key, v := range fields {
			if key == "sample_count" {
				if err := json.Unmarshal(v, &t.Counts); err != nil {
					return nil, fmt.Errorf("%s: results.%s.sample_count: %w", name, task, err)
				}
				continue
			}
			metric, filter, ok := strings.Cut(key, ",")
			if !ok || key == "alias" || key == "name" {
				continue
			}
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				return nil, fmt.Errorf("%s: results.%s.%s: %w", name, task, key, err)
			}
			if base, isStderr := strings.CutSuffix(metric, "_stderr"); isStderr {
				if f, ok := x.(float64); ok {
					t.Stderrs[base+","+filter] = &f
				} else {
					t.Stderrs[base+","+filter] = nil // lm-eval writes "N/A" when it cannot compute one
				}
				continue
			}
			f, ok := x.(float64)
			if !ok {
				return nil, fmt.Errorf("%s: results.%s.%q is %v, not a number", name, task, key, x)
			}
			t.Scores[metric+","+filter] = f
		}
		out.Tasks[task] = t
	}
	return out, nil
}

// RunOptions is what Forge knows about an evaluation that lm-eval does not
// record: the model's pinned identity (lm-eval leaves model_sha empty for
// API models), the run, and which lm-eval task is which experiment task.
type RunOptions struct {
	RunID, Experiment string
	Model             Model
	Provenance        provenance.Record
	// Tasks maps an lm-eval task name (gsm8k_forge, Forge's offline
	// definition) to the experiment's task name (gsm8k) and the one metric
	// and filter the experiment reports.
	Tasks map[string]TaskRef
}

// TaskRef names the experiment task an lm-eval task stands for. A group
// (Forge's mmlu_forge) lists its Subtasks: lm-eval reports the group's
// score, and Forge counts documents over the subtasks.
type TaskRef struct {
	Name, Metric, Filter string
	Shots                int
	Subtasks             []string
	FewshotSource        string   // where the shots come from, for the record
	Subset               []string // the MMLU subjects scored, when not all
	// LogLikelihood: lm-eval scores the task by log-likelihood requests,
	// for which it logs each prompt it left-truncates to max_length.
	LogLikelihood bool
}

// ToRun turns a parsed results file into an eval run (schema
// forge.eval.run/v1), one entry per task in Tasks, in task-name order.
func (r *LMEval) ToRun(o RunOptions) (Run, error) {
	out := Run{Schema: schemas.EvalRun, RunID: o.RunID, Experiment: o.Experiment, Model: o.Model,
		Harness: Harness{Name: "lm-eval", Version: r.Version, FewshotSeed: r.FewshotSeed}, StartedAt: r.Date.Format(time.RFC3339Nano),
		Provenance: o.Provenance}
	names := make([]string, 0, len(o.Tasks))
	for name := range o.Tasks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ref := o.Tasks[name]
		t, ok := r.Tasks[name]
		if !ok {
			return Run{}, fmt.Errorf("lm-eval results have no task %q (they have %s)", name, strings.Join(taskNames(r), ", "))
		}
		key := ref.Metric + "," + ref.Filter
		score, ok := t.Scores[key]
		if !ok {
			return Run{}, fmt.Errorf("lm-eval task %s has no %s with filter %s (it has %s)", name, ref.Metric, ref.Filter, strings.Join(sortedKeys(t.Scores), ", "))
		}
		n := t.N
		for _, sub := range ref.Subtasks {
			st, ok := r.Tasks[sub]
			if !ok {
				return Run{}, fmt.Errorf("lm-eval results have no subtask %s of group %s", sub, name)
			}
			if st.Shots != ref.Shots {
				return Run{}, fmt.Errorf("lm-eval task %s ran %d-shot, the experiment asks %d", sub, st.Shots, ref.Shots)
			}
			if _, ok := t.Counts[key]; !ok {
				n += st.N
			}
		}
		if c, ok := t.Counts[key]; ok && len(ref.Subtasks) > 0 {
			n = c
		}
		if t.Shots != ref.Shots {
			return Run{}, fmt.Errorf("lm-eval task %s ran %d-shot, the experiment asks %d", name, t.Shots, ref.Shots)
		}
		task := Task{Task: ref.Name, Shots: t.Shots, Metric: ref.Metric, Filter: ref.Filter, Score: score,
			Stderr: t.Stderrs[key], N: n, Limit: r.Limit, FewshotSource: ref.FewshotSource, Subjects: ref.Subset}
		if t.TaskHash != "" {
			h := t.TaskHash
			task.TaskHash = &h
		}
		out.Tasks = append(out.Tasks, task)
	}
	return out, nil
}

func taskNames(r *LMEval) []string {
	out := make([]string, 0, len(r.Tasks))
	for k := range r.Tasks {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ParseSamples reads an lm-eval --log_samples file (samples_<task>_<date>.jsonl):
// one line per document and filter, holding doc_id, filter, the metric
// names ("metrics") and each metric's value under its own name. Only metric
// is kept. task is the file's task (lm-eval names it in the file name).
func ParseSamples(name, task, metric string, r io.Reader) ([]Sample, error) {
	br := bufio.NewReader(r)
	var out []Sample
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(b))) > 0 {
			var rec map[string]json.RawMessage
			if jerr := json.Unmarshal(b, &rec); jerr != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, jerr)
			}
			var s Sample
			s.Task = task
			if jerr := json.Unmarshal(rec["doc_id"], &s.DocID); jerr != nil {
				return nil, fmt.Errorf("%s:%d: doc_id: %v", name, line, jerr)
			}
			if jerr := json.Unmarshal(rec["filter"], &s.Filter); jerr != nil {
				return nil, fmt.Errorf("%s:%d: filter: %v", name, line, jerr)
			}
			v, ok := rec[metric]
			if !ok {
				return nil, fmt.Errorf("%s:%d: no %q value (this file has metrics %s)", name, line, metric, rec["metrics"])
			}
			if jerr := json.Unmarshal(v, &s.Value); jerr != nil {
				return nil, fmt.Errorf("%s:%d: %s: %v", name, line, metric, jerr)
			}
			out = append(out, s)
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
}

// SamplesTask is the task named by an lm-eval samples file name,
// samples_<task>_<date>.jsonl.
func SamplesTask(path string) (string, bool) {
	base := filepath.Base(path)
	rest, ok := strings.CutPrefix(base, "samples_")
	if !ok || !strings.HasSuffix(rest, ".jsonl") {
		return "", false
	}
	i := strings.LastIndex(rest, "_")
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}
