package cli

import (
	"context"
	"fmt"
	"github.com/forge-bench/forge/tools/internal/experiment"

	"github.com/forge-bench/forge/tools/internal/quantize"
)

// runQuantize is `forge quantize MODEL`: build a catalog model whose
// quantization block names the model it comes from (from = "...").
func runQuantize(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "quantize", "MODEL [--experiments DIR] [--python PATH]")
	dir := fs.String("experiments", "experiments", "directory of experiments")
	python := fs.String("python", "", "python with llmcompressor (default .venv/quant/bin/python)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("quantize wants one catalog model name")
	}
	cfg, err := experiment.LoadReported(env.Stderr, *dir, nil)
	if err != nil {
		return err
	}
	res, err := quantize.FromCatalog(ctx, cfg, pos[0], quantize.Options{Python: *python, Log: env.Stderr})
	if err != nil {
		return problems("%s: %v", *dir, err)
	}
	how := "quantized"
	if res.Cached {
		how = "cached"
	}
	fmt.Fprintf(env.Stdout, "quantize %s: %s, sha256 %s (%s); record %s\n", pos[0], res.Dir, res.SHA256, how, res.RecordPath)
	return nil
}
