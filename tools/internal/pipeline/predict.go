package pipeline

import (
	"cmp"
	"context"
	"github.com/forge-bench/forge/tools/internal/rundir"
	"github.com/forge-bench/forge/tools/internal/textcount"
	"github.com/forge-bench/forge/tools/internal/workload"
	"time"

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
	pr := newPredictor(p, seq, runID)
	if s := SearchOf(p); s != nil {
		lrs, sums, _, _ := pr.search(context.Background(), *s)
		return lrs, sums
	}
	var lrs []bench.LevelRun
	var sums []bench.Summary
	for _, l := range p.Sweep.Levels {
		lr, s := pr.level(bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index})
		lrs, sums = append(lrs, lr), append(sums, s)
	}
	return lrs, sums
}

// PredictRun is `forge predict NAME --results ROOT`: the experiment's
// whole sweep predicted by the twin in virtual time, kept as a run of its
// own (results/NAME.predicted/<id>/, levels under predicted/, state
// complete) and priced, charted and reported like a measured one, every
// figure labelled predicted; compare names runs to report it with (the
// baseline's prediction). It answers a study before a GPU is rented.
func PredictRun(ctx context.Context, o Out, p *plan.Plan, resultsRoot, compare string) (rundir.Dir, error) {
	seq, err := PlanSequence(ctx, p)
	if err != nil {
		return "", err
	}
	d, _, err := newRun(resultsRoot, p.Experiment+rundir.PredictedSuffix, p, "", time.Now(), 1, nil)
	if err != nil {
		return "", err
	}
	if err := writeText(d, p, seq); err != nil {
		return d, cmp.Or(Finish(ctx, d, err), err)
	}
	lrs, sums := PredictSequence(p, seq, d.ID())
	err = bench.WriteLevels(d.Path(rundir.PredictedDir), lrs, sums)
	if err = cmp.Or(Finish(ctx, d, err), err); err != nil {
		return d, err
	}
	if _, err := PrintCost(o, string(d), false); err != nil {
		return d, err
	}
	dirs, err := CompareDirs(string(d), compare)
	if err != nil {
		return d, err
	}
	return d, Study(string(d), dirs, false, chartAndReport(o))
}

// PredictOrSearch predicts the plan's sweep or, with a search, find-max in
// virtual time: the same search as forge bench --find-max, each probe a
// predicted level.
func PredictOrSearch(ctx context.Context, p *plan.Plan, s *bench.Search, runID string) ([]bench.LevelRun, []bench.Summary, bench.SearchResult, error) {
	seq, err := PlanSequence(ctx, p)
	if err != nil {
		return nil, nil, bench.SearchResult{}, err
	}
	if s == nil {
		lrs, sums := PredictSequence(p, seq, runID)
		return lrs, sums, bench.SearchResult{}, nil
	}
	return newPredictor(p, seq, runID).search(ctx, *s)
}

// search is find-max in virtual time, each probe a predicted level.
func (pr *predictor) search(ctx context.Context, s bench.Search) ([]bench.LevelRun, []bench.Summary, bench.SearchResult, error) {
	var lrs []bench.LevelRun
	res, sums, err := bench.FindMax(ctx, s, 0, func(_ context.Context, lvl bench.Level) (bench.Summary, error) {
		lr, sum := pr.level(lvl)
		lrs = append(lrs, lr)
		return sum, nil
	})
	return lrs, sums, res, err
}

// predictor predicts levels of one plan's request sequence.
type predictor struct {
	p       *plan.Plan
	seq     Sequence
	runID   string
	cfg     twin.Config
	prov    provenance.Record
	slo     bench.SLO
	maxConc int
}

func newPredictor(p *plan.Plan, seq Sequence, runID string) *predictor {
	ws := seq.Set
	prov := provenance.Record{ForgeVersion: buildinfo.Version, ForgeCommit: buildinfo.Commit, Engine: provenance.Engine{Name: "twin", Version: cmp.Or(p.Engine.Version, "0.11.0")},
		GPU: p.Hardware.GPU, GPUSource: "declared", ModelRepo: p.Model.Repo, ModelRevision: &p.Model.Revision, ServedModel: p.Model.ServedName,
		PriceObserved: &p.Hardware.Price.Observed, PlanHash: &p.Hash, RequestSequenceSHA256: &ws.SHA256}
	if ws.DatasetSHA256 != "" {
		prov.DatasetSHA256 = &ws.DatasetSHA256
	}
	pr := &predictor{p: p, seq: seq, runID: runID, cfg: twin.ConfigFromPlan(p, twin.DefaultEfficiency), prov: prov, slo: SLO(p)}
	if p.Sweep.MaxConcurrency != nil {
		pr.maxConc = *p.Sweep.MaxConcurrency
	}
	return pr
}

func (pr *predictor) level(lvl bench.Level) (bench.LevelRun, bench.Summary) {
	lr := twin.PredictLevel(pr.cfg, lvl, pr.seq.Measured, pr.p.Sweep.Burstiness, pr.maxConc, uint64(pr.p.Workload.Seed)+uint64(lvl.Index))
	for i := range lr.Records {
		lr.Records[i].RunID = pr.runID
	}
	s := lr.Summarize(pr.runID, pr.p.Experiment, pr.slo, pr.prov)
	s.Predicted, s.Source, s.API, s.TokenSource = true, "predict", pr.p.Workload.API, pr.seq.Set.TokenSource
	return lr, s
}

// writeText records the measured prompts' characters and their tokens under
// each tokenizer Forge counts (text.json), which the cost model converts
// prices with. A workload of synthetic tokens has no text to measure.
func writeText(d rundir.Dir, p *plan.Plan, seq Sequence) error {
	if p.Workload.Kind == "random" || len(seq.Measured) == 0 {
		return nil
	}
	prompts := make([]textcount.Prompt, len(seq.Measured))
	for i, m := range seq.Measured {
		prompts[i] = textcount.Prompt{Text: m.Text, SelfTokens: m.PromptTokens}
	}
	rec, err := textcount.Measure(prompts, "the workload's count ("+seq.Set.TokenSource+") for "+p.Model.Repo, seq.Set.TokenSource != workload.SourceTokenizer)
	if err != nil {
		return err
	}
	rec.RunID, rec.Experiment, rec.RequestSequenceSHA256 = d.ID(), p.Experiment, seq.Set.SHA256
	if seq.Set.DatasetSHA256 != "" {
		sum := seq.Set.DatasetSHA256
		rec.DatasetSHA256 = &sum
	}
	b, err := textcount.Encode(rec)
	if err != nil {
		return err
	}
	return rundir.WriteFileAtomic(d.Path(rundir.TextFile), b)
}
