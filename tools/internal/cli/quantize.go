package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/models"
	"github.com/forge-bench/forge/tools/internal/plan"
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
	cfg, diags := experiment.Load([]string{*dir}, experiment.Options{})
	if diags.HasErrors() {
		if cfg != nil {
			_ = experiment.WriteDiagnostics(env.Stderr, cfg.Files, diags, 100, false)
		}
		return problems("%s has errors; fix them first (forge validate %s)", *dir, *dir)
	}
	m := cfg.ModelByName(pos[0])
	if m == nil {
		var names []string
		for _, x := range cfg.Models {
			if x.Quantization != nil && x.Quantization.From != nil {
				names = append(names, x.Name)
			}
		}
		return problems("no model named %q in %s%s; models built by forge quantize: %s", pos[0], *dir, didYouMean(pos[0], names), strings.Join(names, ", "))
	}
	if m.Quantization == nil || m.Quantization.From == nil {
		return problems("model %s (%s:%d) is not built here: its quantization block has no from = \"<base model>\"; it is served from %s@%s", m.Name, m.DefRange.Filename, m.DefRange.Start.Line, m.Repo, m.Revision)
	}
	qm, base := plan.ModelOf(m), plan.ModelOf(cfg.ModelByName(*m.Quantization.From))
	if base.Source != nil {
		res, err := models.Prepare(ctx, base, models.Options{Log: env.Stderr})
		if err != nil {
			return problems("base model %s: %v", base.Name, err)
		}
		base.Path = res.Dir
	}
	ds := cfg.DatasetByName(m.Quantization.Calibration.Dataset)
	fmt.Fprintf(env.Stderr, "quantize %s: AWQ W%dA16 group %d from %s, %d calibration samples of %s (up to %d tokens each), format %s\n",
		m.Name, qm.Quantization.Bits, qm.Quantization.GroupSize, base.Name, qm.Quantization.Calibration.Samples, ds.Name, qm.Quantization.Calibration.SeqLen, qm.Quantization.Format)
	res, err := quantize.Run(ctx, qm, base, plan.DatasetOf(ds), quantize.Options{Python: *python, Log: env.Stderr})
	if err != nil {
		return problems("%v", err)
	}
	how := "quantized"
	if res.Cached {
		how = "cached"
	}
	fmt.Fprintf(env.Stdout, "quantize %s: %s, sha256 %s (%s); record %s\n", m.Name, res.Dir, res.SHA256, how, res.RecordPath)
	return nil
}
