package cli

import (
	"context"

	"github.com/forge-bench/forge/tools/internal/pipeline"
)

// runRetention is `forge retention BASELINE_RUN CANDIDATE_RUN`: the paired
// retention of the candidate's eval tasks against the baseline's, written to
// CANDIDATE_RUN/eval/retention.json (or --out). Two runs of the same model
// give its noise floor.
func runRetention(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "retention", "BASELINE_RUN_DIR CANDIDATE_RUN_DIR [--out FILE]")
	out := fs.String("out", "", "where to write the record (default CANDIDATE_RUN_DIR/eval/retention.json; noise floor: noise-floor.json)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("retention wants a baseline run directory and a candidate run directory")
	}
	return pipeline.WriteRetention(pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, pos[0], pos[1], *out)
}
