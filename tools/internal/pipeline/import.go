package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// ImportVLLMBench turns `vllm bench serve --save-result --save-detailed`
// files into Forge summaries in dir, one per level, indexed as a Forge
// sweep would index them; the files' dates are read in loc.
func ImportVLLMBench(env Out, files []string, dir, experiment, runID string, loc *time.Location) error {
	type item struct {
		file  string
		res   *vllmbench.Result
		level bench.Level
	}
	var items []item
	byLevel := map[string]string{}
	earliest := ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("import: %v", err)
		}
		r, err := vllmbench.Parse(f, b)
		if err != nil {
			return fmt.Errorf("import: %v", err)
		}
		lvl, err := r.Level(0)
		if err != nil {
			return fmt.Errorf("import: %v", err)
		}
		key := vllmbench.LevelKey(lvl)
		if prev, dup := byLevel[key]; dup {
			return fmt.Errorf("import: %s and %s are both level %s; import them into different directories", prev, f, key)
		}
		byLevel[key] = f
		if earliest == "" || r.Date < earliest {
			earliest = r.Date
		}
		items = append(items, item{f, r, lvl})
	}
	// Index the levels as a Forge sweep would: concurrency before rate,
	// ascending values, whatever order the files came in.
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].level, items[j].level
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Value < b.Value
	})
	if runID == "" {
		runID = "vllm-bench-" + earliest
	}
	summaries := make([]bench.Summary, len(items))
	for i, it := range items {
		s, err := vllmbench.ToSummary(it.res, vllmbench.Options{RunID: runID, Experiment: experiment, Index: i, Location: loc})
		if err != nil {
			return fmt.Errorf("import: %v", err)
		}
		summaries[i] = s
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("import: %v", err)
	}
	for i, s := range summaries {
		data, err := bench.EncodeSummary(s)
		if err != nil {
			return fmt.Errorf("import: %s: %v", items[i].file, err)
		}
		path := filepath.Join(dir, bench.LevelName(s.Level)+bench.SummaryExt)
		if err := bench.WriteFileAtomic(path, data); err != nil {
			return fmt.Errorf("import: %v", err)
		}
		fmt.Fprintf(env.Stdout, "%s -> %s: %s %g, %d ok, %d failed, %.1f output tok/s, TTFT p50 %s ms\n", items[i].file, path,
			s.Level.Kind, s.Level.Value, s.Completed, s.Failed, s.OutputThroughput, bench.FormatMs(s.TTFT.P50))
	}
	return nil
}
