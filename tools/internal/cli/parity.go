package cli

import (
	"context"

	"github.com/forge-bench/forge/tools/internal/pipeline"
)

// runParity compares Forge's level summaries with imported vllm bench serve
// ones, pairing levels by kind and value. The markdown table goes to stdout
// (and --out), rows as JSON to --json; warnings and the verdict to stderr.
// Any row outside its tolerance exits 1, after everything is written.
func runParity(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "parity", "FORGE_BENCH_DIR VLLM_DIR [--out FILE.md] [--json FILE.json]")
	outMD := fs.String("out", "", "also write the markdown table to this file")
	outJSON := fs.String("json", "", "write the rows as JSON to this file (no \"schema\" field: keep it out of results/, which forge validate checks)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageErr("parity wants two directories: FORGE_BENCH_DIR (forge bench --out) and VLLM_DIR (forge import vllm-bench --out), got %d argument(s)", len(pos))
	}
	rows, err := pipeline.Parity(pipeline.Out{Stdout: env.Stdout, Stderr: env.Stderr}, pos[0], pos[1], *outMD, *outJSON)
	if err != nil {
		return err
	}
	if bad := pipeline.Outside(rows); bad > 0 {
		return problems("parity: %d of %d comparisons outside tolerance (marked **no**)", bad, len(rows))
	}
	return nil
}
