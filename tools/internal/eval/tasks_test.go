package eval

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/plan"
)

// mmluTree writes test/ and dev/ CSVs for the given subjects.
func mmluTree(t *testing.T, subjects ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, s := range subjects {
		for _, split := range []string{"test", "dev"} {
			p := filepath.Join(root, split, s+"_"+split+".csv")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("q,a,b,c,d,A\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// TestWriteSuite: each task's offline definition names lm-eval's task and
// what its record states; an MMLU subset is the group of those subjects
// only, recorded as a subset.
func TestWriteSuite(t *testing.T) {
	tree := mmluTree(t, "anatomy", "astronomy", "virology")
	arrow := filepath.Join(t.TempDir(), "validation.arrow")
	resolve := func(d plan.Dataset) (string, error) {
		if d.Name == "mmlu" {
			return tree, nil
		}
		return arrow, nil
	}
	data := []plan.TaskData{{Role: "test", Dataset: plan.Dataset{Name: "x"}}}
	mmluData := []plan.TaskData{{Role: "test", Dataset: plan.Dataset{Name: "mmlu"}}}
	tests := []struct {
		name     string
		task     plan.Task
		lmTask   string
		subtasks []string
		subset   []string
		files    []string
		wantErr  string
	}{
		{"mmlu, every subject", plan.Task{Name: "mmlu", Shots: 5, Metric: "acc", Data: mmluData}, "mmlu_forge",
			[]string{"mmlu_forge_anatomy", "mmlu_forge_astronomy", "mmlu_forge_virology"}, nil, []string{"mmlu_forge.yaml", "mmlu_forge_virology.yaml"}, ""},
		{"mmlu, a subset", plan.Task{Name: "mmlu", Shots: 5, Metric: "acc", Subjects: []string{"virology", "anatomy"}, Data: mmluData}, "mmlu_forge",
			[]string{"mmlu_forge_anatomy", "mmlu_forge_virology"}, []string{"anatomy", "virology"}, []string{"mmlu_forge.yaml", "mmlu_forge_anatomy.yaml"}, ""},
		{"mmlu, a subject without data", plan.Task{Name: "mmlu", Shots: 5, Metric: "acc", Subjects: []string{"nutrition"}, Data: mmluData}, "", nil, nil, nil, `subject "nutrition" is not in`},
		{"hellaswag", plan.Task{Name: "hellaswag", Shots: 5, Metric: "acc_norm", Data: data}, "hellaswag_forge",
			nil, nil, []string{"hellaswag_forge.yaml", "hellaswag_forge_utils.py"}, ""},
		{"hellaswag without its data", plan.Task{Name: "hellaswag", Shots: 5, Metric: "acc_norm"}, "", nil, nil, nil, "no pinned test data"},
		{"a task Forge does not write", plan.Task{Name: "piqa", Shots: 0, Metric: "acc", Data: data}, "", nil, nil, nil, "no offline definition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := WriteSuite(dir, tt.task, resolve)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Task != tt.lmTask || !slices.Equal(s.Ref.Subtasks, tt.subtasks) || !slices.Equal(s.Ref.Subset, tt.subset) || s.Ref.FewshotSource == "" {
				t.Errorf("suite %+v, want task %s, subtasks %v, subset %v, a few-shot source", s, tt.lmTask, tt.subtasks, tt.subset)
			}
			for _, f := range tt.files {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s not written: %v", f, err)
				}
			}
		})
	}
	// HellaSwag's shots come from the scored split itself, which is what
	// makes lm-eval leave the scored context out of them.
	dir := t.TempDir()
	if _, err := WriteSuite(dir, plan.Task{Name: "hellaswag", Shots: 5, Metric: "acc_norm", Data: data}, resolve); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "hellaswag_forge.yaml"))
	for _, want := range []string{"test_split: validation\n", "fewshot_split: validation\n", "num_fewshot: 5\n", arrow, "process_docs: !function hellaswag_forge_utils.process_docs"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("hellaswag_forge.yaml lacks %q:\n%s", want, b)
		}
	}
}
