package pipeline

import (
	"cmp"
	"context"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/buildinfo"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/twin"
)

// Predict runs the twin in virtual time over the plan's sweep, on the same
// measured requests forge bench sends (PlanSequence): the records forge
// bench would have written, and their summaries, which carry the same
// request_sequence_sha256 as the measured ones.
func Predict(ctx context.Context, p *plan.Plan, runID string) ([]bench.LevelRun, []bench.Summary, error) {
	seq, err := PlanSequence(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	lrs, sums := PredictSequence(p, seq, runID)
	return lrs, sums, nil
}

// PredictSequence is Predict on a sequence already generated (the one the
// run's bench sends).
func PredictSequence(p *plan.Plan, seq Sequence, runID string) ([]bench.LevelRun, []bench.Summary) {
	ws := seq.Set
	cfg := twin.ConfigFromPlan(p, twin.DefaultEfficiency)
	prov := provenance.Record{ForgeVersion: buildinfo.Version, ForgeCommit: buildinfo.Commit, Engine: provenance.Engine{Name: "twin", Version: cmp.Or(p.Engine.Version, "0.11.0")},
		GPU: p.Hardware.GPU, GPUSource: "declared", ModelRepo: p.Model.Repo, ModelRevision: &p.Model.Revision, ServedModel: p.Model.ServedName,
		PriceObserved: &p.Hardware.Price.Observed, PlanHash: &p.Hash, RequestSequenceSHA256: &ws.SHA256}
	if ws.DatasetSHA256 != "" {
		prov.DatasetSHA256 = &ws.DatasetSHA256
	}
	slo := SLO(p)
	maxConc := 0
	if p.Sweep.MaxConcurrency != nil {
		maxConc = *p.Sweep.MaxConcurrency
	}
	var lrs []bench.LevelRun
	var sums []bench.Summary
	for _, l := range p.Sweep.Levels {
		lvl := bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index}
		lr := twin.PredictLevel(cfg, lvl, seq.Measured, p.Sweep.Burstiness, maxConc, uint64(p.Workload.Seed)+uint64(l.Index))
		for i := range lr.Records {
			lr.Records[i].RunID = runID
		}
		s := lr.Summarize(runID, p.Experiment, slo, prov)
		s.Predicted, s.Source, s.API, s.TokenSource = true, "predict", p.Workload.API, ws.TokenSource
		lrs, sums = append(lrs, lr), append(sums, s)
	}
	return lrs, sums
}
