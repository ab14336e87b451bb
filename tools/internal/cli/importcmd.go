package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

const importSynopsis = "vllm-bench FILE... --out DIR [--experiment NAME] [--run-id ID] [--tz ZONE]"

// runImport dispatches `forge import <format>`; vllm-bench is the only format.
func runImport(_ context.Context, env Env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(env.Stderr, "Usage: forge import %s\n", importSynopsis)
		return usageErr("import wants a format: forge import %s", importSynopsis)
	}
	switch args[0] {
	case "vllm-bench":
		return importVLLMBench(env, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(env.Stdout, "Usage: forge import %s\n\nvllm-bench: result files of `vllm bench serve --save-result --save-detailed`, one per load level.\n", importSynopsis)
		return nil
	}
	return usageErr("import: unknown format %q (known: vllm-bench)", args[0])
}

// importVLLMBench writes one <level>.summary.json per vllm bench serve
// result file. Every file is read and converted before anything is
// written, so a bad file leaves DIR as it was.
func importVLLMBench(env Env, args []string) error {
	fs := newFlags(env, "import", importSynopsis)
	out := fs.String("out", "", "directory to write <NN>-<kind>-<value>.summary.json into (created if missing)")
	experiment := fs.String("experiment", "vllm-bench", "experiment name to record in the summaries")
	runID := fs.String("run-id", "", "run id to record in the summaries (default vllm-bench-<date of the earliest file>)")
	tz := fs.String("tz", "Local", "time zone of the files' \"date\" field, which vLLM writes in local time without a zone (IANA name, UTC, or Local)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageErr("import vllm-bench wants at least one result file")
	}
	if *out == "" {
		return usageErr("import vllm-bench: --out DIR is required")
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return usageErr("--tz %q: %v", *tz, err)
	}
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
			return problems("import: %v", err)
		}
		r, err := vllmbench.Parse(f, b)
		if err != nil {
			return problems("import: %v", err)
		}
		lvl, err := r.Level(0)
		if err != nil {
			return problems("import: %v", err)
		}
		key := vllmbench.LevelKey(lvl)
		if prev, dup := byLevel[key]; dup {
			return problems("import: %s and %s are both level %s; import them into different directories", prev, f, key)
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
	if *runID == "" {
		*runID = "vllm-bench-" + earliest
	}
	summaries := make([]bench.Summary, len(items))
	for i, it := range items {
		s, err := vllmbench.ToSummary(it.res, vllmbench.Options{RunID: *runID, Experiment: *experiment, Index: i, Location: loc})
		if err != nil {
			return problems("import: %v", err)
		}
		summaries[i] = s
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return problems("import: %v", err)
	}
	for i, s := range summaries {
		data, err := bench.EncodeSummary(s)
		if err != nil {
			return problems("import: %s: %v", items[i].file, err)
		}
		path := filepath.Join(*out, bench.LevelName(s.Level)+".summary.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return problems("import: %v", err)
		}
		fmt.Fprintf(env.Stdout, "%s -> %s: %s %g, %d ok, %d failed, %.1f output tok/s, TTFT p50 %s ms\n", items[i].file, path,
			s.Level.Kind, s.Level.Value, s.Completed, s.Failed, s.OutputThroughput, bench.FormatMs(s.TTFT.P50))
	}
	return nil
}
