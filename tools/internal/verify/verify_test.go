package verify

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// lvl is one synthetic level: its index and the run it claims to be from.
type lvl struct {
	index    int
	runID    string
	planHash string  // "": none
	scale    float64 // 0: none (a real engine)
}

// writeLevels writes levels into dir as forge bench or the twin would:
// three completed requests each, records made by bench.Measure.
func writeLevels(t *testing.T, dir string, ls ...lvl) {
	t.Helper()
	var lrs []bench.LevelRun
	var sums []bench.Summary
	for _, l := range ls {
		lr := bench.LevelRun{Level: bench.Level{Kind: "concurrency", Value: float64(l.index + 1), Index: l.index},
			NumPrompts: 3, Start: time.Unix(1700000000, 0), End: time.Unix(1700000001, 0)}
		for j := 0; j < 3; j++ {
			r := bench.Measure(bench.Timeline{Status: "ok", Usage: &bench.Usage{PromptTokens: 5, CompletionTokens: 3},
				Content: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}}, 5, bench.Counter{})
			r.RunID, r.Level, r.RequestIndex = l.runID, lr.Level, j
			r.ActualSendS, r.DoneS = float64(j)/10, float64(j)/10+0.05
			lr.Records = append(lr.Records, r)
		}
		var prov provenance.Record
		if l.planHash != "" {
			prov.PlanHash = &l.planHash
		}
		if l.scale != 0 {
			prov.TimeScale = &l.scale
		}
		lrs, sums = append(lrs, lr), append(sums, lr.Summarize(l.runID, "e", bench.SLO{"ttft_ms": 100}, prov))
	}
	if err := bench.WriteLevels(dir, lrs, sums); err != nil {
		t.Fatal(err)
	}
}

// newRun makes a run directory under root: a plan, two measured levels
// and two predicted ones, all of one run.
func newRun(t *testing.T, root, name string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	writeLevels(t, filepath.Join(dir, "bench"), lvl{0, "r1", "h", 1}, lvl{1, "r1", "h", 1})
	writeLevels(t, filepath.Join(dir, "predicted"), lvl{0, "r1", "h", 0}, lvl{1, "r1", "h", 0})
	write(t, filepath.Join(dir, "plan.json"), "{}")
	return dir
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// edit applies fn to each named file's text.
func edit(t *testing.T, path string, fn func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, fn(string(b)))
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

const (
	sum0 = "bench/00-concurrency-1.summary.json"
	sum1 = "bench/01-concurrency-2.summary.json"
	rec1 = "bench/01-concurrency-2.jsonl"
)

// TestTree: every problem of a tree is reported, each by file and field
// (want: "file|field|fragment of the message"), and nothing else.
func TestTree(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, root string)
		want  []string
	}{
		{"clean", func(t *testing.T, root string) { newRun(t, root, "exp/a") }, nil},
		{"records without a summary", func(t *testing.T, root string) {
			remove(t, filepath.Join(newRun(t, root, "a"), sum1))
		}, []string{"a/" + rec1 + "|(whole file)|records without a summary"}},
		{"summary without records", func(t *testing.T, root string) {
			remove(t, filepath.Join(newRun(t, root, "a"), "predicted/00-concurrency-1.jsonl"))
		}, []string{"a/predicted/00-concurrency-1.summary.json|(whole file)|summary without records"}},
		{"mixed run id", func(t *testing.T, root string) {
			writeLevels(t, filepath.Join(newRun(t, root, "a"), "bench"), lvl{2, "r2", "h", 1})
		}, []string{
			"a/" + sum0 + `|/run_id|= "r1": mixed run directory: levels from different runs ("r1" in 00-concurrency-1, 01-concurrency-2; "r2" in 02-concurrency-3)`,
			"a/" + sum1 + "|/run_id|mixed run directory: levels from different runs",
			"a/bench/02-concurrency-3.summary.json|/run_id|mixed run directory",
		}},
		{"mixed time scale", func(t *testing.T, root string) {
			writeLevels(t, filepath.Join(newRun(t, root, "a"), "bench"), lvl{1, "r1", "h", 2})
		}, []string{
			"a/" + sum0 + "|/provenance/time_scale|1 in 00-concurrency-1; 2 in 01-concurrency-2",
			"a/" + sum1 + "|/provenance/time_scale|mixed run directory",
		}},
		{"mixed plan hash", func(t *testing.T, root string) {
			writeLevels(t, filepath.Join(newRun(t, root, "a"), "bench"), lvl{0, "r1", "", 1})
		}, []string{
			"a/" + sum0 + "|/provenance/plan_hash|= (absent or null): mixed run directory",
			"a/" + sum1 + `|/provenance/plan_hash|= "h": mixed`,
		}},
		{"empty summary", func(t *testing.T, root string) {
			write(t, filepath.Join(newRun(t, root, "a"), sum0), "")
		}, []string{"a/" + sum0 + "|(whole file)|empty (0 bytes)"}},
		{"not a summary", func(t *testing.T, root string) {
			write(t, filepath.Join(newRun(t, root, "a"), sum0), `{"level": `)
		}, []string{"a/" + sum0 + "|(whole file)|not a summary"}},
		{"unreadable summary", func(t *testing.T, root string) {
			p := filepath.Join(newRun(t, root, "a"), sum0)
			remove(t, p)
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"a/" + sum0 + "|(whole file)|cannot be read"}},
		{"recomputed differs", func(t *testing.T, root string) {
			edit(t, filepath.Join(newRun(t, root, "a"), sum1), func(s string) string {
				return strings.Replace(s, `"completed": 3,`, `"completed": 4,`, 1)
			})
		}, []string{"a/" + sum1 + "|/completed|stored 4, recomputed 3"}},
		{"record cut mid-line", func(t *testing.T, root string) {
			edit(t, filepath.Join(newRun(t, root, "a"), rec1), func(s string) string { return s + `{"schema":"forge.bench.rec` })
		}, []string{"a/" + rec1 + ":4|(record)|not a record"}},
		{"cost not recomputable", func(t *testing.T, root string) {
			dir := newRun(t, root, "a")
			write(t, filepath.Join(dir, "plan.json"), "not json")
			write(t, filepath.Join(dir, "cost.json"), "{}")
		}, []string{"a/cost.json|(whole file)|cannot be recomputed"}},
		{"several at once", func(t *testing.T, root string) {
			a := newRun(t, root, "exp/a")
			write(t, filepath.Join(a, sum0), "")
			remove(t, filepath.Join(a, sum1))
			writeLevels(t, filepath.Join(a, "bench"), lvl{2, "r1", "h", 1}, lvl{3, "r1", "h", 0.5})
			b := newRun(t, root, "exp/b")
			edit(t, filepath.Join(b, sum1), func(s string) string { return strings.Replace(s, `"completed": 3,`, `"completed": 4,`, 1) })
			remove(t, filepath.Join(b, "predicted/01-concurrency-2.summary.json"))
			write(t, filepath.Join(b, "cost.json"), "{}")
			write(t, filepath.Join(b, "plan.json"), "{")
		}, []string{
			"exp/a/" + sum0 + "|(whole file)|empty",
			"exp/a/" + rec1 + "|(whole file)|records without a summary",
			"exp/a/bench/02-concurrency-3.summary.json|/provenance/time_scale|1 in 02-concurrency-3; 0.5 in 03-concurrency-4",
			"exp/a/bench/03-concurrency-4.summary.json|/provenance/time_scale|= 0.5",
			"exp/b/" + sum1 + "|/completed|stored 4",
			"exp/b/cost.json|(whole file)|cannot be recomputed",
			"exp/b/predicted/01-concurrency-2.jsonl|(whole file)|records without a summary",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			c.setup(t, root)
			diffs, n, err := Tree(root)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, strings.TrimPrefix(d.String(), root+string(filepath.Separator)))
			}
			sort.Strings(got)
			if len(got) != len(c.want) {
				t.Fatalf("%d problems, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
			}
			for i, w := range c.want {
				file, rest, _ := strings.Cut(w, "|")
				field, frag, _ := strings.Cut(rest, "|")
				if !strings.HasPrefix(got[i], file+": "+field+": ") && !strings.HasPrefix(got[i], file+": "+field+" = ") || !strings.Contains(got[i], frag) {
					t.Errorf("problem %d: %s\nwant file %s, field %s, mentioning %q", i, got[i], file, field, frag)
				}
			}
			if c.name == "clean" && n != (Counts{Runs: 1, Summaries: 4, Records: 12}) {
				t.Errorf("counts %+v", n)
			}
		})
	}
}

// TestTreeRoot: only the root itself fails the whole verification.
func TestTreeRoot(t *testing.T) {
	root := t.TempDir()
	if _, _, err := Tree(filepath.Join(root, "missing")); err == nil {
		t.Error("a missing root verified")
	}
	if _, _, err := Tree(root); err == nil || !strings.Contains(err.Error(), "no run directory") {
		t.Errorf("a root without runs: %v", err)
	}
}
