package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/forge-bench/forge/tools/internal/plan"
)

// Suite is one experiment task written as offline lm-eval task definitions:
// the YAML files in Dir (lm-eval's --include_path), the name to pass to
// --tasks, and what each lm-eval task reports for the experiment.
type Suite struct {
	Dir  string
	Task string // lm-eval task or group name, e.g. gsm8k_forge, mmlu_forge
	Ref  TaskRef
}

// Resolver returns the local path of a pinned dataset (a file, or a
// directory for mmlu-csv), checked against its sha256.
type Resolver func(plan.Dataset) (string, error)

// taskFiles resolves a task's pinned data: the absolute path of each
// dataset by its role ("test", "fewshot").
func taskFiles(t plan.Task, resolve Resolver) (map[string]string, error) {
	files := map[string]string{}
	for _, d := range t.Data {
		p, err := resolve(d.Dataset)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t.Name, err)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		files[d.Role] = abs
	}
	return files, nil
}

// WriteSuite writes the offline definition of one experiment task into dir.
// The definitions reproduce lm-eval 0.4's built-in prompt formats, metrics
// and filters (tasks/gsm8k/gsm8k.yaml, tasks/mmlu/default/), reading the
// pinned local files instead of a dataset hub, so scores stay comparable
// with published ones. Shots are written into each definition.
func WriteSuite(dir string, t plan.Task, resolve Resolver) (Suite, error) {
	files, err := taskFiles(t, resolve)
	if err != nil {
		return Suite{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Suite{}, err
	}
	ref := TaskRef{Name: t.Name, Metric: t.Metric, Filter: t.Filter, Shots: t.Shots, LogLikelihood: LogLikelihood(t.Name)}
	if ref.Filter == "" {
		ref.Filter = "none"
	}
	need := func(roles ...string) error {
		for _, r := range roles {
			if files[r] == "" {
				return fmt.Errorf("task %s has no pinned %s data: declare its dataset in the catalog (forge validate names it)", t.Name, r)
			}
		}
		return nil
	}
	switch t.Name {
	case "gsm8k":
		if err := need("test", "fewshot"); err != nil {
			return Suite{}, err
		}
		if ref.Filter == "none" {
			ref.Filter = "strict-match"
		}
		ref.FewshotSource = FewshotGSM8K
		s := Suite{Dir: dir, Task: "gsm8k_forge", Ref: ref}
		return s, os.WriteFile(filepath.Join(dir, "gsm8k_forge.yaml"), []byte(gsm8kYAML(files["test"], files["fewshot"], t.Shots)), 0o644)
	case "mmlu":
		if err := need("test"); err != nil {
			return Suite{}, err
		}
		subjects, err := mmluSubjects(files["test"])
		if err != nil {
			return Suite{}, fmt.Errorf("task mmlu: %w", err)
		}
		if len(t.Subjects) > 0 {
			for _, s := range t.Subjects {
				if !slices.Contains(subjects, s) {
					return Suite{}, fmt.Errorf("task mmlu: subject %q is not in %s", s, files["test"])
				}
			}
			subjects = slices.Sorted(slices.Values(t.Subjects))
			ref.Subset = subjects
		}
		var names []string
		for _, sub := range subjects {
			name := "mmlu_forge_" + sub
			names = append(names, name)
			if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(mmluYAML(files["test"], sub, t.Shots)), 0o644); err != nil {
				return Suite{}, err
			}
		}
		ref.Subtasks = names
		ref.FewshotSource = FewshotMMLU
		group := "group: mmlu_forge\ntask:\n"
		for _, n := range names {
			group += "  - " + n + "\n"
		}
		group += "aggregate_metric_list:\n  - metric: acc\n    weight_by_size: true\nmetadata:\n  version: 2.0\n"
		s := Suite{Dir: dir, Task: "mmlu_forge", Ref: ref}
		return s, os.WriteFile(filepath.Join(dir, "mmlu_forge.yaml"), []byte(group), 0o644)
	case "hellaswag":
		if err := need("test"); err != nil {
			return Suite{}, err
		}
		ref.FewshotSource = FewshotHellaSwag
		if err := os.WriteFile(filepath.Join(dir, "hellaswag_forge_utils.py"), []byte(hellaswagUtils), 0o644); err != nil {
			return Suite{}, err
		}
		s := Suite{Dir: dir, Task: "hellaswag_forge", Ref: ref}
		return s, os.WriteFile(filepath.Join(dir, "hellaswag_forge.yaml"), []byte(hellaswagYAML(files["test"], t.Shots)), 0o644)
	}
	return Suite{}, fmt.Errorf("task %s: Forge has no offline definition for it (it writes mmlu, gsm8k and hellaswag)", t.Name)
}

// LogLikelihood says whether Forge's definition of a task scores it by
// log-likelihood (multiple choice) rather than by generated text: such a
// task needs prompt log-probabilities, which chat APIs do not give.
func LogLikelihood(task string) bool { return task == "mmlu" || task == "hellaswag" }

// Where each task's shots come from, as its eval record states it.
const (
	FewshotMMLU      = "dev split, first n per subject (lm-eval's mmlu)"
	FewshotGSM8K     = "train split, drawn with the few-shot seed (lm-eval's gsm8k)"
	FewshotHellaSwag = "validation split, drawn with the few-shot seed, excluding the scored context; lm-eval's hellaswag draws from train, which no pinned source ships (docs/methodology.md)"
)

// q quotes a string for YAML (a JSON string is a YAML double-quoted scalar).
func q(s string) string { return strconv.Quote(s) }

// gsm8kYAML is lm-eval's gsm8k task (version 3) over local JSONL files: the
// same prompt, stop sequences, greedy decoding, metric and both filters.
func gsm8kYAML(test, train string, shots int) string {
	return `task: gsm8k_forge
dataset_path: json
dataset_kwargs:
  data_files:
    train: ` + q(train) + `
    test: ` + q(test) + `
output_type: generate_until
training_split: train
fewshot_split: train
test_split: test
doc_to_text: "Question: {{question}}\nAnswer:"
doc_to_target: "{{answer}}"
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
    ignore_case: true
    ignore_punctuation: false
    regexes_to_ignore:
      - ","
      - "\\$"
      - "(?s).*#### "
      - "\\.$"
generation_kwargs:
  until:
    - "Question:"
    - "</s>"
    - "<|im_end|>"
  do_sample: false
  temperature: 0.0
repeats: 1
num_fewshot: ` + strconv.Itoa(shots) + `
filter_list:
  - name: "strict-match"
    filter:
      - function: "regex"
        regex_pattern: "#### (\\-?[0-9\\.\\,]+)"
      - function: "take_first"
  - name: "flexible-extract"
    filter:
      - function: "regex"
        group_select: -1
        regex_pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)"
      - function: "take_first"
metadata:
  version: 3.0
`
}

// hellaswagYAML is lm-eval's hellaswag task (version 1.0: the same
// preprocessing, prompt, choices and metrics) over the validation split as
// a local Arrow file. The split is both the scored and the few-shot split:
// when the two are the same, lm-eval leaves the scored document out of its
// shots (ContextSampler.sample with eval_doc), so no context is shown its
// own answer.
func hellaswagYAML(validation string, shots int) string {
	return `task: hellaswag_forge
task_alias: hellaswag
dataset_path: arrow
dataset_kwargs:
  data_files:
    validation: ` + q(validation) + `
output_type: multiple_choice
test_split: validation
fewshot_split: validation
process_docs: !function hellaswag_forge_utils.process_docs
doc_to_text: "{{query}}"
doc_to_target: "{{label}}"
doc_to_choice: "choices"
num_fewshot: ` + strconv.Itoa(shots) + `
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
`
}

// hellaswagUtils lets the task definition name lm-eval's own HellaSwag
// preprocessing (a !function must be a module beside the YAML); nothing
// of it is copied.
const hellaswagUtils = `# Written by forge: lm-eval's own HellaSwag preprocessing, imported.
from lm_eval.tasks.hellaswag.utils import process_docs  # noqa: F401
`

// mmluYAML is one subject of lm-eval's default MMLU (5-shot from dev, first
// n, the same description, prompt and choices) over the original CSVs,
// whose answer column holds the letter itself.
func mmluYAML(root, subject string, shots int) string {
	return `task: mmlu_forge_` + subject + `
task_alias: ` + subject + `
dataset_path: csv
dataset_kwargs:
  data_files:
    test: ` + q(filepath.Join(root, "test", subject+"_test.csv")) + `
    dev: ` + q(filepath.Join(root, "dev", subject+"_dev.csv")) + `
  column_names: [question, A, B, C, D, answer]
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
num_fewshot: ` + strconv.Itoa(shots) + `
output_type: multiple_choice
description: ` + q("The following are multiple choice questions (with answers) about "+strings.ReplaceAll(subject, "_", " ")+".\n\n") + `
doc_to_text: "{{question.strip()}}\nA. {{A}}\nB. {{B}}\nC. {{C}}\nD. {{D}}\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
`
}

// mmluSubjects lists the subjects of an MMLU tree: test/<subject>_test.csv,
// each with its dev/<subject>_dev.csv.
func mmluSubjects(root string) ([]string, error) {
	tests, err := filepath.Glob(filepath.Join(root, "test", "*_test.csv"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range tests {
		sub := strings.TrimSuffix(filepath.Base(p), "_test.csv")
		if _, err := os.Stat(filepath.Join(root, "dev", sub+"_dev.csv")); err != nil {
			return nil, fmt.Errorf("%s has no dev/%s_dev.csv for its shots", root, sub)
		}
		out = append(out, sub)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no test/<subject>_test.csv", root)
	}
	sort.Strings(out)
	return out, nil
}
