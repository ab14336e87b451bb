package eval

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/forge-bench/forge/schemas"
)

// The two MMLU subjects of the hand-made runs, in the order their samples
// files sort (LoadSides and samplesFiles sort lm-eval task names).
var retSubjects = []string{"abstract_algebra", "anatomy"}

const (
	revA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 40 hex: a valid pinned revision
	revB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// retRun describes one hand-made run directory: eval/mmlu.json (an eval run
// of task mmlu, 5-shot acc, filter none, samples_file raw/mmlu/output) and
// one lm-eval samples file per subject under
// eval/raw/mmlu/output/model/samples_mmlu_forge_<subject>_2026-01-01T00-00-00.jsonl.
type retRun struct {
	experiment, revision string
	shots                int
	docs                 [2][]float64 // per subject, doc_id i scores docs[s][i]
}

// retDir is a written run directory: its path, and each written file's
// sha256 keyed by its path relative to the run directory.
type retDir struct {
	dir  string
	sums map[string]string
}

func samplesName(subject string) string {
	return "samples_mmlu_forge_" + subject + "_2026-01-01T00-00-00.jsonl"
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFileT(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeRetRun lays out r in dir and returns what it wrote. Each extra
// metric is one more task entry of the run, its samples lines carrying the
// same value under that metric's name too.
func writeRetRun(t *testing.T, dir string, r retRun, extra ...string) retDir {
	t.Helper()
	out := retDir{dir: dir, sums: map[string]string{}}
	n, right := 0, 0.0
	for s, subject := range retSubjects {
		var b strings.Builder
		for i, v := range r.docs[s] {
			more := ""
			for _, m := range extra {
				more += fmt.Sprintf(", %q: %v", m, v)
			}
			fmt.Fprintf(&b, "{\"doc_id\": %d, \"filter\": \"none\", \"metrics\": [\"acc\"], \"acc\": %v%s, \"resps\": [[\"x\"]]}\n", i, v, more)
			n++
			right += v
		}
		rel := "eval/raw/mmlu/output/model/" + samplesName(subject)
		writeFileT(t, filepath.Join(dir, filepath.FromSlash(rel)), []byte(b.String()))
		out.sums[rel] = sha256Hex([]byte(b.String()))
	}
	run := Run{Schema: schemas.EvalRun, RunID: filepath.Base(dir), Experiment: r.experiment,
		Model:   Model{Repo: "HuggingFaceTB/SmolLM2-135M-Instruct", Revision: r.revision, ServedName: "smollm2"},
		Harness: Harness{Name: "lm-eval", Version: "0.4.13"}, StartedAt: "2026-01-01T00:00:00Z",
		Tasks:       []Task{{Task: "mmlu", Shots: r.shots, Metric: "acc", Filter: "none", Score: right / float64(n), N: n}},
		SamplesFile: "raw/mmlu/output"}
	for _, m := range extra {
		tk := run.Tasks[0]
		tk.Metric = m
		run.Tasks = append(run.Tasks, tk)
	}
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFileT(t, filepath.Join(dir, "eval", "mmlu.json"), b)
	out.sums["eval/mmlu.json"] = sha256Hex(b)
	return out
}

// retPair writes a baseline and a candidate run side by side under one
// temporary root (root/base, root/cand) and loads both with LoadSides.
func retPair(t *testing.T, base, cand retRun) (b, c retDir, bs, cs []Side) {
	t.Helper()
	root := t.TempDir()
	b = writeRetRun(t, filepath.Join(root, "base"), base)
	c = writeRetRun(t, filepath.Join(root, "cand"), cand)
	var err error
	if bs, err = LoadSides(b.dir); err != nil {
		t.Fatal(err)
	}
	if cs, err = LoadSides(c.dir); err != nil {
		t.Fatal(err)
	}
	return b, c, bs, cs
}

// TestRetentionLoadSides: a run directory gives one side per eval run, its
// run file, and for its task the samples directory with every lm-eval task
// that has a samples file there, sorted.
func TestRetentionLoadSides(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run1")
	writeRetRun(t, dir, retRun{"exp", revA, 5, [2][]float64{{1, 0}, {1}}})
	sides, err := LoadSides(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sides) != 1 {
		t.Fatalf("%d sides, want 1", len(sides))
	}
	s := sides[0]
	if s.RunFile != filepath.Join(dir, "eval", "mmlu.json") || s.Run.RunID != "run1" || s.Run.Model.Revision != revA {
		t.Errorf("side %+v", s)
	}
	want := SampleSource{Dir: filepath.Join(dir, "eval", "raw", "mmlu", "output"),
		Tasks: []string{"mmlu_forge_abstract_algebra", "mmlu_forge_anatomy"}}
	if got := s.Samples["mmlu"]; !reflect.DeepEqual(got, want) || len(s.Samples) != 1 {
		t.Errorf("samples %+v, want {mmlu: %+v}", s.Samples, want)
	}

	// A samples_file directory without samples files is an error naming it.
	empty := filepath.Join(t.TempDir(), "run2")
	writeRetRun(t, empty, retRun{"exp", revA, 5, [2][]float64{{1}, {1}}})
	if err := os.RemoveAll(filepath.Join(empty, "eval", "raw", "mmlu", "output", "model")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(empty, "eval", "raw", "mmlu", "output"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSides(empty); err == nil || !strings.Contains(err.Error(), "no lm-eval samples files") {
		t.Errorf("empty samples dir: err = %v", err)
	}
	// No eval/ at all: no sides, no error.
	if sides, err := LoadSides(t.TempDir()); err != nil || len(sides) != 0 {
		t.Errorf("no eval dir: %v %v", sides, err)
	}
}

// TestRetainSides pairs hand-made runs of 5 + 5 MMLU documents and checks
// every figure against values worked by hand, the inputs and their hashes,
// and that the written record matches its schema and reads back equal.
func TestRetainSides(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	base8 := [2][]float64{{1, 1, 1, 1, 0}, {1, 1, 1, 1, 0}} // 8 of 10 right
	tests := []struct {
		name                 string
		base, cand           retRun
		kind                 string
		n, unpaired          int
		baseMean, candMean   float64
		diff                 float64
		ratio                *float64 // nil: want a null ratio and interval
		bothRight, bothWrong int
		lost, gained         int
		mcnemar              float64
		pointInterval        bool // nothing changed: every resample agrees
	}{
		{
			// Candidate: algebra loses doc 3 and gains doc 4, anatomy loses
			// doc 3: 7 of 10 right. Both right: docs 0-2 of each = 6; both
			// wrong: anatomy doc 4 = 1; lost 2, gained 1.
			// Means 0.8 and 0.7, diff -0.1, ratio 0.7/0.8 = 0.875.
			// McNemar on (2, 1): n = 3, P(X ≤ 1) = (C(3,0) + C(3,1))/2³ = 4/8,
			// two-sided 2 · 4/8 = 1.
			name: "baseline",
			base: retRun{"base-exp", revA, 5, base8},
			cand: retRun{"cand-exp", revB, 5, [2][]float64{{1, 1, 1, 0, 1}, {1, 1, 1, 0, 0}}},
			kind: "baseline", n: 10, unpaired: 0, baseMean: 0.8, candMean: 0.7, diff: -0.1, ratio: ptr(0.875),
			bothRight: 6, bothWrong: 1, lost: 2, gained: 1, mcnemar: 1,
		},
		{
			// The same revision scored the same way twice: diff 0, ratio 1,
			// no discordant document (McNemar 1 by definition), and every
			// bootstrap resample gives diff 0 and ratio 1 exactly.
			name: "noise floor",
			base: retRun{"base-exp", revA, 5, base8},
			cand: retRun{"base-exp", revA, 5, base8},
			kind: "noise_floor", n: 10, baseMean: 0.8, candMean: 0.8, diff: 0, ratio: ptr(1),
			bothRight: 8, bothWrong: 2, mcnemar: 1, pointInterval: true,
		},
		{
			// The candidate scored only 4 anatomy documents (doc 4 missing):
			// 9 pairs, 1 unpaired. Over the pairs the baseline has 4 + 4 = 8
			// right of 9, the candidate (algebra 1,1,1,0,1; anatomy 1,1,1,0)
			// 4 + 3 = 7: means 8/9 and 7/9, diff -1/9, ratio 7/8.
			// Both right 3 + 3, both wrong 0, lost 2 (doc 3 of each), gained 1
			// (algebra doc 4): McNemar 1 as above.
			name: "unpaired documents",
			base: retRun{"base-exp", revA, 5, base8},
			cand: retRun{"cand-exp", revB, 5, [2][]float64{{1, 1, 1, 0, 1}, {1, 1, 1, 0}}},
			kind: "baseline", n: 9, unpaired: 1, baseMean: 8.0 / 9, candMean: 7.0 / 9, diff: -1.0 / 9, ratio: ptr(0.875),
			bothRight: 6, lost: 2, gained: 1, mcnemar: 1,
		},
		{
			// A baseline scoring 0: the candidate gets algebra docs 0-1 and
			// anatomy doc 0 right, 3 of 10. Ratio undefined (null), diff 0.3;
			// gained 3, lost 0, both wrong 7. McNemar on (0, 3): n = 3,
			// P(X ≤ 0) = 1/8, two-sided 2/8 = 0.25.
			name: "zero baseline",
			base: retRun{"base-exp", revA, 5, [2][]float64{{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}},
			cand: retRun{"cand-exp", revB, 5, [2][]float64{{1, 1, 0, 0, 0}, {1, 0, 0, 0, 0}}},
			kind: "baseline", n: 10, baseMean: 0, candMean: 0.3, diff: 0.3, ratio: nil,
			bothWrong: 7, gained: 3, mcnemar: 0.25,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c, bs, cs := retPair(t, tt.base, tt.cand)
			relTo := filepath.Join(c.dir, "eval")
			opts := PairOptions{Resamples: 500}
			rep, err := RetainSides(bs, cs, relTo, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Schema != schemas.EvalRetention || rep.Kind != tt.kind {
				t.Errorf("schema %q kind %q, want %q %q", rep.Schema, rep.Kind, schemas.EvalRetention, tt.kind)
			}
			if rep.Baseline.Experiment != tt.base.experiment || rep.Baseline.RunID != "base" || rep.Baseline.Model.Revision != tt.base.revision ||
				rep.Candidate.Experiment != tt.cand.experiment || rep.Candidate.RunID != "cand" || rep.Candidate.Model.Revision != tt.cand.revision {
				t.Errorf("sides %+v / %+v", rep.Baseline, rep.Candidate)
			}
			if len(rep.Tasks) != 1 {
				t.Fatalf("%d tasks, want 1: %+v", len(rep.Tasks), rep.Tasks)
			}
			tr := rep.Tasks[0]
			if tr.Task != "mmlu" || tr.Metric != "acc" || tr.Filter != "none" || tr.Shots != 5 {
				t.Errorf("task %s %s %s %d-shot", tr.Task, tr.Metric, tr.Filter, tr.Shots)
			}
			if tr.N != tt.n || tr.Unpaired != tt.unpaired {
				t.Errorf("n %d unpaired %d, want %d %d", tr.N, tr.Unpaired, tt.n, tt.unpaired)
			}
			if !near(tr.Baseline, tt.baseMean) || !near(tr.Candidate, tt.candMean) || !near(tr.Diff, tt.diff) {
				t.Errorf("baseline %v candidate %v diff %v, want %v %v %v", tr.Baseline, tr.Candidate, tr.Diff, tt.baseMean, tt.candMean, tt.diff)
			}
			if !(tr.DiffLow <= tr.Diff && tr.Diff <= tr.DiffHigh) {
				t.Errorf("diff interval [%v, %v] does not hold %v", tr.DiffLow, tr.DiffHigh, tr.Diff)
			}
			if tr.Level != 0.95 || tr.Resamples != opts.Resamples || tr.Seed != 0 {
				t.Errorf("level %v resamples %d seed %d, want 0.95 %d 0", tr.Level, tr.Resamples, tr.Seed, opts.Resamples)
			}
			if tt.ratio == nil {
				if tr.Ratio != nil || tr.RatioLow != nil || tr.RatioHigh != nil {
					t.Errorf("ratio %v [%v, %v], want all nil for a zero baseline", tr.Ratio, tr.RatioLow, tr.RatioHigh)
				}
			} else {
				if tr.Ratio == nil || !near(*tr.Ratio, *tt.ratio) {
					t.Errorf("ratio %v, want %v", tr.Ratio, *tt.ratio)
				}
				if tr.Ratio != nil && (tr.RatioLow == nil || tr.RatioHigh == nil || *tr.RatioLow > *tr.Ratio || *tr.Ratio > *tr.RatioHigh) {
					t.Errorf("ratio interval [%v, %v] does not hold %v", tr.RatioLow, tr.RatioHigh, *tr.Ratio)
				}
			}
			if tt.pointInterval {
				if tr.DiffLow != 0 || tr.DiffHigh != 0 || tr.RatioLow == nil || *tr.RatioLow != 1 || *tr.RatioHigh != 1 {
					t.Errorf("noise floor interval: diff [%v, %v] ratio [%v, %v], want [0, 0] and [1, 1]", tr.DiffLow, tr.DiffHigh, tr.RatioLow, tr.RatioHigh)
				}
			}
			wantFlips := Flips{BothRight: tt.bothRight, BothWrong: tt.bothWrong, Lost: tt.lost, Gained: tt.gained}
			if f := tr.Flips; f == nil {
				t.Error("no flips for a 0/1 metric")
			} else {
				got := *f
				got.McNemarP = 0
				if got != wantFlips || !near(f.McNemarP, tt.mcnemar) {
					t.Errorf("flips %+v, want %+v with p %v", *f, wantFlips, tt.mcnemar)
				}
			}
			if !strings.Contains(tr.Method, "500 resamples") || !strings.Contains(tr.Method, "McNemar") {
				t.Errorf("method %q", tr.Method)
			}

			// Inputs: both run files and all four samples files, relative to
			// relTo (cand/eval; the baseline is ../../base/...), with the
			// sha256 of the bytes written.
			want := map[string]string{}
			for rel, sum := range b.sums {
				want["../../base/"+rel] = sum
			}
			for rel, sum := range c.sums {
				want[strings.TrimPrefix(rel, "eval/")] = sum
			}
			got := map[string]string{}
			for _, in := range rep.Inputs {
				got[in.Path] = in.SHA256
			}
			if len(rep.Inputs) != 6 || !reflect.DeepEqual(got, want) {
				t.Errorf("inputs %+v,\nwant %v", rep.Inputs, want)
			}
			for _, in := range rep.Inputs { // each path leads to the file from relTo
				if _, err := os.Stat(filepath.Join(relTo, filepath.FromSlash(in.Path))); err != nil {
					t.Errorf("input %s: %v", in.Path, err)
				}
			}

			// A fixed seed: the same record twice.
			again, err := RetainSides(bs, cs, relTo, opts)
			if err != nil || !reflect.DeepEqual(again, rep) {
				t.Errorf("second computation differs: %v", err)
			}

			// Written, it validates (null ratios included) and reads back equal.
			path := filepath.Join(relTo, RetentionFile)
			if err := WriteRetention(path, rep); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			findings, err := schemas.ValidateJSON(schemas.EvalRetention, raw)
			if err != nil || len(findings) != 0 {
				t.Errorf("%s does not validate: %v %+v\n%s", path, err, findings, raw)
			}
			if tt.ratio == nil && !strings.Contains(string(raw), `"ratio": null`) {
				t.Errorf("zero baseline: ratio not written as null:\n%s", raw)
			}
			back, err := LoadRetention(path)
			if err != nil || back == nil || !reflect.DeepEqual(*back, rep) {
				t.Errorf("LoadRetention = %+v, %v; want the record written", back, err)
			}
		})
	}
}

func ptr(v float64) *float64 { return &v }

// TestRetainSidesSharedInputs: two metrics of one task read the same run
// files and samples files; each task is reported, each file listed once.
func TestRetainSidesSharedInputs(t *testing.T) {
	root := t.TempDir()
	docs := [2][]float64{{1, 1, 0}, {1, 0}}
	b := writeRetRun(t, filepath.Join(root, "base"), retRun{"base-exp", revA, 5, docs}, "acc_norm")
	c := writeRetRun(t, filepath.Join(root, "cand"), retRun{"cand-exp", revB, 5, docs}, "acc_norm")
	bs, err := LoadSides(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := LoadSides(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RetainSides(bs, cs, root, PairOptions{Resamples: 50})
	if err != nil {
		t.Fatal(err)
	}
	// Identical scores: 3 of 5 right on both sides, ratio 1, for each metric.
	if len(rep.Tasks) != 2 || rep.Tasks[0].Metric != "acc" || rep.Tasks[1].Metric != "acc_norm" {
		t.Fatalf("tasks %+v, want acc and acc_norm", rep.Tasks)
	}
	for _, tr := range rep.Tasks {
		if tr.N != 5 || tr.Baseline != 0.6 || tr.Candidate != 0.6 || tr.Ratio == nil || *tr.Ratio != 1 {
			t.Errorf("%s: n %d %v → %v ratio %v", tr.Metric, tr.N, tr.Baseline, tr.Candidate, tr.Ratio)
		}
	}
	want := map[string]string{}
	for rel, sum := range b.sums {
		want["base/"+rel] = sum
	}
	for rel, sum := range c.sums {
		want["cand/"+rel] = sum
	}
	got := map[string]string{}
	for _, in := range rep.Inputs {
		got[in.Path] = in.SHA256
	}
	if len(rep.Inputs) != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("inputs %+v, want each of %v once", rep.Inputs, want)
	}
}

// TestLoadRetention: a missing file is (nil, nil); a malformed one an error
// naming it.
func TestLoadRetention(t *testing.T) {
	dir := t.TempDir()
	if r, err := LoadRetention(filepath.Join(dir, "none.json")); r != nil || err != nil {
		t.Errorf("missing file: %v, %v; want nil, nil", r, err)
	}
	bad := filepath.Join(dir, "bad.json")
	writeFileT(t, bad, []byte("{not json"))
	if r, err := LoadRetention(bad); r != nil || err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("malformed file: %v, %v", r, err)
	}
}

func TestRetainSidesErrors(t *testing.T) {
	base := retRun{"base-exp", revA, 5, [2][]float64{{1, 1, 0}, {1, 0}}}
	cand := retRun{"cand-exp", revB, 5, [2][]float64{{1, 0, 0}, {1, 1}}}
	tests := []struct {
		name string
		// edit changes the written runs (or the loaded sides) before pairing.
		edit func(t *testing.T, b, c retDir, bs, cs []Side) ([]Side, []Side)
		want []string
	}{
		{
			name: "candidate misses a samples file",
			edit: func(t *testing.T, b, c retDir, bs, cs []Side) ([]Side, []Side) {
				rm(t, filepath.Join(c.dir, "eval", "raw", "mmlu", "output", "model", samplesName("anatomy")))
				return bs, cs
			},
			want: []string{"candidate mmlu", "no samples_mmlu_forge_anatomy_*.jsonl"},
		},
		{
			name: "baseline misses a samples file",
			edit: func(t *testing.T, b, c retDir, bs, cs []Side) ([]Side, []Side) {
				rm(t, filepath.Join(b.dir, "eval", "raw", "mmlu", "output", "model", samplesName("abstract_algebra")))
				return bs, cs
			},
			want: []string{"baseline mmlu", "no samples_mmlu_forge_abstract_algebra_*.jsonl"},
		},
		{
			name: "two samples files for one subject",
			edit: func(t *testing.T, b, c retDir, bs, cs []Side) ([]Side, []Side) {
				writeFileT(t, filepath.Join(c.dir, "eval", "raw", "mmlu", "output", "other", "samples_mmlu_forge_anatomy_2026-02-02T00-00-00.jsonl"),
					[]byte(`{"doc_id": 0, "filter": "none", "metrics": ["acc"], "acc": 1}`+"\n"))
				return bs, cs
			},
			want: []string{"candidate mmlu", "two samples files for task mmlu_forge_anatomy"},
		},
		{
			name: "no task in common",
			edit: func(t *testing.T, b, c retDir, bs, cs []Side) ([]Side, []Side) {
				cs[0].Run.Tasks[0].Shots = 0 // same task, other shots: not comparable
				return bs, cs
			},
			want: []string{"no task is reported by both base-exp and cand-exp"},
		},
		{
			name: "no candidate run",
			edit: func(t *testing.T, b, c retDir, bs, cs []Side) ([]Side, []Side) { return bs, nil },
			want: []string{"eval runs on both sides"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, c, bs, cs := retPair(t, base, cand)
			bs, cs = tt.edit(t, b, c, bs, cs)
			rep, err := RetainSides(bs, cs, filepath.Join(c.dir, "eval"), PairOptions{Resamples: 50})
			if err == nil {
				t.Fatalf("no error; report %+v", rep)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func rm(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// TestRetainApplyPaired: Retain's unpaired figures of a task that the
// retention record pairs are replaced by the record's; other tasks, and the
// input slice, are left as they were.
func TestRetainApplyPaired(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	baseRuns := []Run{{Tasks: []Task{
		{Task: "mmlu", Metric: "acc", Filter: "none", Shots: 5, Score: 0.8, Stderr: f(0.04)},
		{Task: "gsm8k", Metric: "exact_match", Filter: "strict-match", Shots: 5, Score: 0.5, Stderr: f(0.05)},
	}}}
	candRuns := []Run{{Tasks: []Task{
		{Task: "mmlu", Metric: "acc", Filter: "none", Shots: 5, Score: 0.7, Stderr: f(0.05)},
		{Task: "gsm8k", Metric: "exact_match", Filter: "strict-match", Shots: 5, Score: 0.4, Stderr: f(0.05)},
	}}}
	// The same 10 documents as TestRetainSides' "baseline": lost 2, gained 1.
	_, _, bs, cs := retPair(t,
		retRun{"base-exp", revA, 5, [2][]float64{{1, 1, 1, 1, 0}, {1, 1, 1, 1, 0}}},
		retRun{"cand-exp", revB, 5, [2][]float64{{1, 1, 1, 0, 1}, {1, 1, 1, 0, 0}}})
	rep, err := RetainSides(bs, cs, t.TempDir(), PairOptions{Resamples: 300})
	if err != nil {
		t.Fatal(err)
	}
	// A zero baseline on the same documents (gained 3): a null ratio.
	_, _, zbs, zcs := retPair(t,
		retRun{"base-exp", revA, 5, [2][]float64{{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}},
		retRun{"cand-exp", revB, 5, [2][]float64{{1, 1, 0, 0, 0}, {1, 0, 0, 0, 0}}})
	zero, err := RetainSides(zbs, zcs, t.TempDir(), PairOptions{Resamples: 300})
	if err != nil {
		t.Fatal(err)
	}

	rs := Retain(baseRuns, candRuns)
	if len(rs) != 2 || rs[0].Task != "mmlu" || rs[1].Task != "gsm8k" {
		t.Fatalf("Retain = %+v", rs)
	}
	before := append([]Retention(nil), rs...)
	// Unpaired: ratio 0.7/0.8 = 0.875 with a delta-method interval.
	if rs[0].Paired != nil || math.Abs(rs[0].Ratio-0.875) > 1e-12 || rs[0].Low == nil || rs[0].Method != "independent (delta method on stderr)" {
		t.Fatalf("unpaired mmlu %+v", rs[0])
	}

	t.Run("paired", func(t *testing.T) {
		got := ApplyPaired(rs, &rep)
		tr := &rep.Tasks[0]
		m := got[0]
		if m.Paired != tr {
			t.Errorf("Paired = %p, want the record's task %p", m.Paired, tr)
		}
		if m.Ratio != *tr.Ratio || m.Low != tr.RatioLow || m.High != tr.RatioHigh || m.Difference != tr.Diff {
			t.Errorf("ratio %v [%v, %v] diff %v, want the record's %v [%v, %v] %v", m.Ratio, m.Low, m.High, m.Difference, *tr.Ratio, tr.RatioLow, tr.RatioHigh, tr.Diff)
		}
		if math.Abs(m.Ratio-0.875) > 1e-12 || math.Abs(m.Difference+0.1) > 1e-12 {
			t.Errorf("ratio %v diff %v, want 0.875 and -0.1", m.Ratio, m.Difference)
		}
		// McNemar p of (2, 1) is 1 (see TestRetainSides), printed %.3g.
		if want := "paired on 10 documents, bootstrap 300; lost 2, gained 1, McNemar p = 1"; m.Method != want {
			t.Errorf("method %q, want %q", m.Method, want)
		}
		// The scores themselves stay the runs' own.
		if m.Baseline.Score != 0.8 || m.Quant.Score != 0.7 {
			t.Errorf("scores %v %v", m.Baseline.Score, m.Quant.Score)
		}
		// gsm8k is not in the record: untouched.
		if !reflect.DeepEqual(got[1], before[1]) {
			t.Errorf("gsm8k changed: %+v", got[1])
		}
		// The input slice is not modified.
		if rs[0].Paired != nil || rs[0].Method != before[0].Method || rs[0].Low != before[0].Low {
			t.Errorf("ApplyPaired modified its input: %+v", rs[0])
		}
	})
	t.Run("zero baseline", func(t *testing.T) {
		got := ApplyPaired(rs, &zero)
		m := got[0]
		if m.Paired != &zero.Tasks[0] || !math.IsNaN(m.Ratio) || m.Low != nil || m.High != nil || math.Abs(m.Difference-0.3) > 1e-12 {
			t.Errorf("zero baseline: %+v, want NaN ratio, no interval, diff 0.3", m)
		}
		// McNemar p of (0, 3) = 0.25.
		if !strings.HasSuffix(m.Method, "lost 0, gained 3, McNemar p = 0.25") {
			t.Errorf("method %q", m.Method)
		}
	})
	t.Run("other shots", func(t *testing.T) {
		other := rep
		other.Tasks = []TaskRetention{rep.Tasks[0]}
		other.Tasks[0].Shots = 0 // a 0-shot record does not pair with a 5-shot task
		got := ApplyPaired(rs, &other)
		if !reflect.DeepEqual(got, before) {
			t.Errorf("a record of other shots changed the retentions: %+v", got)
		}
	})
}
