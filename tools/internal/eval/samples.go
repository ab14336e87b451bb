package eval

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// LoadSamples reads the per-document scores of the lm-eval tasks named
// (a task, or a group's subtasks) from the samples_<task>_<date>.jsonl files
// anywhere under dir, keeping only metric. Every task must have exactly one
// file: two would mean two runs mixed in one directory.
func LoadSamples(dir, metric string, tasks []string) ([]Sample, error) {
	files, err := samplesFiles(SampleSource{Dir: dir, Tasks: tasks})
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, p := range files {
		task, _ := SamplesTask(p)
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		s, err := ParseSamples(p, task, metric, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// samplesFiles finds each task's samples file under src.Dir, in task order.
func samplesFiles(src SampleSource) ([]string, error) {
	want := map[string]bool{}
	for _, t := range src.Tasks {
		want[t] = true
	}
	found := map[string]string{}
	err := filepath.WalkDir(src.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		task, ok := SamplesTask(p)
		if d.IsDir() || !ok || !want[task] {
			return nil
		}
		if prev, dup := found[task]; dup {
			return fmt.Errorf("two samples files for task %s: %s and %s (one lm-eval run per directory)", task, prev, p)
		}
		found[task] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := append([]string(nil), src.Tasks...)
	sort.Strings(names)
	var out []string
	for _, task := range names {
		p, ok := found[task]
		if !ok {
			return nil, fmt.Errorf("%s: no samples_%s_*.jsonl (lm-eval runs with --log_samples write one per task)", src.Dir, task)
		}
		out = append(out, p)
	}
	return out, nil
}
