package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/forge-bench/forge/tools/internal/pipeline"
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
	return pipeline.ImportVLLMBench(pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, files, *out, *experiment, *runID, loc)
}
