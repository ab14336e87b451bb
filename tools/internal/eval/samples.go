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
	found, err := samplesIndex(src.Dir)
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

// samplesTasks lists the lm-eval tasks that have a samples file under dir.
func samplesTasks(dir string) ([]string, error) {
	found, err := samplesIndex(dir)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: no lm-eval samples files (samples_<task>_<date>.jsonl)", dir)
	}
	out := make([]string, 0, len(found))
	for t := range found {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

// samplesIndex maps each lm-eval task to its samples_<task>_<date>.jsonl
// anywhere under dir; two files for one task mean two runs mixed in one
// directory, an error.
func samplesIndex(dir string) (map[string]string, error) {
	found := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		task, ok := SamplesTask(p)
		if d.IsDir() || !ok {
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
	return found, nil
}
