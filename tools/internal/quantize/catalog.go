package quantize

import (
	"context"
	"fmt"
	"strings"

	"github.com/forge-bench/forge/tools/internal/experiment"
	"github.com/forge-bench/forge/tools/internal/models"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// FromCatalog builds the catalog model name (forge quantize MODEL): its
// quantization block names the model it comes from, which is prepared
// first when it is itself converted from a pinned archive.
func FromCatalog(ctx context.Context, cfg *experiment.Config, name string, o Options) (Result, error) {
	m := cfg.ModelByName(name)
	if m == nil {
		var names []string
		for _, x := range cfg.Models {
			if x.Quantization != nil && x.Quantization.From != nil {
				names = append(names, x.Name)
			}
		}
		return Result{}, fmt.Errorf("no model named %q%s; models built by forge quantize: %s", name, experiment.SuggestClause(name, names), strings.Join(names, ", "))
	}
	if m.Quantization == nil || m.Quantization.From == nil {
		return Result{}, fmt.Errorf("model %s (%s:%d) is not built here: its quantization block has no from = \"<base model>\"; it is served from %s@%s", m.Name, m.DefRange.Filename, m.DefRange.Start.Line, m.Repo, m.Revision)
	}
	qm, base := plan.ModelOf(m), plan.ModelOf(cfg.ModelByName(*m.Quantization.From))
	if base.Source != nil {
		res, err := models.Prepare(ctx, base, models.Options{Log: o.Log, Data: o.Data})
		if err != nil {
			return Result{}, fmt.Errorf("base model %s: %w", base.Name, err)
		}
		base.Path = res.Dir
	}
	ds := cfg.DatasetByName(m.Quantization.Calibration.Dataset)
	q := qm.Quantization
	if o.Log != nil {
		fmt.Fprintf(o.Log, "quantize %s: AWQ W%dA16 group %d from %s, %d calibration samples of %s (up to %d tokens each), format %s\n",
			m.Name, q.Bits, q.GroupSize, base.Name, q.Calibration.Samples, ds.Name, q.Calibration.SeqLen, q.Format)
	}
	return Run(ctx, qm, base, plan.DatasetOf(ds), o)
}
