package plan

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/experiment"
)

// Build resolves one experiment of a loaded, error-free configuration.
func Build(cfg *experiment.Config, e *experiment.Experiment) (*Plan, error) {
	if e.HW == nil || e.M == nil || e.Engine == nil || e.Workload == nil || e.Sweep == nil || e.M.Architecture == nil {
		return nil, fmt.Errorf("experiment %q is incomplete; run forge validate", e.Name)
	}
	h, m, en := e.HW, e.M, e.Engine
	p := &Plan{
		Schema:       schemas.Plan,
		ForgeVersion: forgeVersion(),
		Experiment:   e.Name,
		Source:       Source{File: filepath.ToSlash(e.DefRange.Filename), Line: e.DefRange.Start.Line},
		Hardware:     hardware(h),
		Model:        model(m),
		Engine:       engine(h, m, en),
		Memory:       experiment.EstimateMemory(h, m, en),
		Workload:     workload(e.Workload),
		Sweep:        sweep(e.Sweep),
		Placeholders: map[string]string{"run_dir": "results/<experiment>/<run-id>, chosen when the run starts"},
	}
	for _, f := range []*float64{&p.Memory.BudgetGiB, &p.Memory.WeightsGiB, &p.Memory.OverheadGiB, &p.Memory.KVCacheGiB} {
		*f = round(*f, 3)
	}
	if e.Description != nil {
		p.Description = *e.Description
	}
	if s := e.SLO; s != nil {
		p.SLO = &SLO{TTFTP99Ms: s.TTFTP99Ms, TPOTP99Ms: s.TPOTP99Ms, ITLP99Ms: s.ITLP99Ms, E2ELP99Ms: s.E2ELP99Ms}
	}
	if ev := e.Eval; ev != nil {
		p.Eval = &Eval{Limit: ev.Limit, NumConcurrent: ev.NumConcurrentOr1(), Tasks: []Task{}}
		if ev.Baseline != nil {
			p.Eval.Baseline = *ev.Baseline
		}
		for _, t := range ev.Tasks {
			task := Task{Name: t.Name, Shots: t.Shots, Metric: t.Metric, Limit: t.Limit, Subjects: t.Subjects}
			if t.Filter != nil {
				task.Filter = *t.Filter
			}
			for _, d := range []struct{ role, name string }{{"test", experiment.TaskData[t.Name].Test}, {"fewshot", experiment.TaskData[t.Name].Fewshot}} {
				if ds := cfg.DatasetByName(d.name); d.name != "" && ds != nil {
					task.Data = append(task.Data, TaskData{Role: d.role, Dataset: dataset(ds)})
				}
			}
			p.Eval.Tasks = append(p.Eval.Tasks, task)
		}
	}
	if c := e.Cost; c != nil {
		p.Cost = &Cost{Formula: CostFormula, Utilization: c.Utilization, BudgetUSDPerMonth: c.BudgetUSDPerMonth,
			ExpectedTokensPerMonth: c.ExpectedTokensPerMonth, Compare: []API{}}
		if o := c.Ops; o != nil {
			p.Cost.Ops = &Ops{EngineerHoursPerMonth: o.EngineerHoursPerMonth, USDPerEngineerHour: o.USDPerEngineerHour}
			if o.RedundantGPUs != nil {
				p.Cost.Ops.RedundantGPUs = *o.RedundantGPUs
			}
			if o.Source != nil {
				p.Cost.Ops.Source = *o.Source
			}
		}
		for _, a := range c.APIs {
			p.Cost.Compare = append(p.Cost.Compare, apiOf(a))
		}
	}
	if p.Eval != nil {
		p.Eval.Tokenizer, p.Eval.MaxLength = EvalTokenizerOf(p.Model), p.Engine.MaxModelLen-1
		p.Eval.PromptLogprobsGiB = round(experiment.PromptLogprobsGiB(p.Engine.MaxNumBatchedTokens, p.Model.Architecture.Vocab), 2)
		if p.Hardware.Device != "cpu" {
			p.Eval.HeadroomGiB = round(p.Hardware.VRAMGiB*(1-p.Engine.GPUMemoryUtilization), 2)
		}
	}
	p.Steps = steps(p)
	return p, nil
}

// Named builds the plan a name asks for in a loaded, error-free
// configuration: the experiment's, or for NAME.rehearsal
// (experiment.RehearsalSuffix) its rehearsal's.
func Named(cfg *experiment.Config, name string) (*Plan, error) {
	study, rehearsal := experiment.StudyName(name)
	e := cfg.ExperimentByName(study)
	switch {
	case e == nil:
		names := cfg.ExperimentNames()
		return nil, fmt.Errorf("no experiment named %q%s; declared: %s", study, experiment.SuggestClause(study, names), strings.Join(names, ", "))
	case rehearsal:
		return BuildRehearsal(cfg, e)
	}
	return Build(cfg, e)
}

// BuildRehearsal resolves the CPU rehearsal of one experiment: the plan of
// the experiment Rehearse derives, marked with the study it rehearses.
func BuildRehearsal(cfg *experiment.Config, e *experiment.Experiment) (*Plan, error) {
	re, ex, err := e.Rehearse()
	if err != nil {
		return nil, fmt.Errorf("%w (docs/rehearsal.md)", err)
	}
	p, err := Build(cfg, re)
	if err != nil {
		return nil, err
	}
	if ex == nil {
		ex = []experiment.Exception{}
	}
	p.Rehearsal = &Rehearsal{Of: e.Name, Exceptions: ex}
	return p, nil
}

func hardware(h *experiment.Hardware) Hardware {
	out := Hardware{Name: h.Name, GPU: h.GPU, Device: h.DeviceKind(), Count: h.GPUCount(), VRAMGiB: h.VRAMGiB, BandwidthGBps: h.BandwidthGBps,
		BF16TFLOPS: h.BF16TFLOPS, ComputeCapability: h.ComputeCapability, TDPWatts: h.TDPWatts}
	if pr := h.Price; pr != nil {
		out.Price = Price{Provider: pr.Provider, USDPerHour: pr.USDPerHour, Source: pr.Source, Observed: pr.Observed}
	}
	if o := h.Owned; o != nil {
		out.Owned = &Owned{CapexUSD: o.CapexUSD, AmortizationMonths: o.AmortizationMonths, Watts: o.Watts,
			USDPerKWh: o.USDPerKWh, Source: o.Source, Observed: o.Observed}
	}
	return out
}

// ModelOf is the plan's view of a catalog model.
func ModelOf(m *experiment.Model) Model { return model(m) }

// DatasetOf is the plan's view of a catalog dataset.
func DatasetOf(d *experiment.Dataset) Dataset { return dataset(d) }

func model(m *experiment.Model) Model {
	a := m.Architecture
	linear, other := a.ParamCounts()
	weights, src := m.WeightBytes()
	out := Model{Name: m.Name, Repo: m.Repo, Revision: m.Revision, Dtype: m.Dtype, ServedName: m.ServedModelName(),
		Parameters: linear + other, WeightsGiB: round(weights/(1<<30), 3), WeightsSource: src,
		Architecture: Architecture{Layers: a.Layers, Hidden: a.Hidden, Intermediate: a.Intermediate, Heads: a.Heads,
			KVHeads: a.KVHeads, HeadDim: a.HeadDim, Vocab: a.Vocab, TieEmbeddings: a.TieEmbeddings != nil && *a.TieEmbeddings,
			MaxPositionEmbeddings: a.MaxPositionEmbeddings}}
	if m.License != nil {
		out.License = *m.License
	}
	if s := m.Source; s != nil {
		out.Source = &ModelSource{Format: s.Format, URL: s.URL, SHA256: s.SHA256, SizeBytes: s.SizeBytes, Member: s.Member, MemberSHA256: s.MemberSHA256}
		if s.License != nil {
			out.Source.License = *s.License
		}
	}
	if m.Local() {
		out.Path = ModelDir(m.Revision)
	}
	if q := m.Quantization; q != nil {
		out.Quantization = &Quantization{Method: q.Method, Bits: q.Bits, GroupSize: q.GroupSize, ZeroPoint: q.ZeroPoint,
			Version: q.Version, Kernel: q.Kernel, Ignore: nonNil(q.Ignore), Format: q.FormatOr()}
		if q.From != nil {
			out.Quantization.From = *q.From
		}
		if c := q.Calibration; c != nil {
			out.Quantization.Calibration = &Calibration{Dataset: c.Dataset, Samples: c.Samples, SeqLen: c.SeqLen}
		}
	}
	return out
}

// ModelCache is where converted checkpoints live, relative to the directory
// forge runs in; ModelDir names one by its tree sha256.
const ModelCache = ".cache/models"

// ModelDir is the directory of the converted checkpoint with this revision.
func ModelDir(revision string) string { return ModelCache + "/sha256/" + revision }

func engine(h *experiment.Hardware, m *experiment.Model, en *experiment.Engine) Engine {
	out := Engine{Kind: en.Kind, Version: en.VersionOr(), Host: "127.0.0.1", Port: en.ListenPort(),
		MaxModelLen: en.MaxModelLen, MaxNumSeqs: en.MaxNumSeqs, MaxNumBatchedTokens: en.BatchedTokens(h),
		GPUMemoryUtilization: en.GPUMemoryUtilization, EnablePrefixCaching: en.PrefixCaching(),
		KVCacheDtype: en.KVDtype(), Dtype: en.ActDtype(), Seed: en.SeedOr0(), TensorParallelSize: en.TP(),
		KVOvercommit: en.Overcommit(), ExtraArgs: nonNil(en.ExtraArgs)}
	if h.DeviceKind() == "cpu" && en.Kind == "vllm" {
		out.CPUKVCacheGiB = en.CPUKVCache()
	}
	if en.Kind == "vllm" {
		out.ConfigFile = VLLMConfigFile
		out.Config = vllmConfig(h, m, &out)
		out.ConfigYAML = yaml(out.Config)
	}
	return out
}

func workload(w *experiment.Workload) Workload {
	out := Workload{Kind: w.Kind, API: w.APIKind(), Seed: w.SeedOr0(), InputTokens: w.InputTokens,
		OutputTokens: w.OutputTokens, IgnoreEOS: w.IgnoreEOSOr()}
	if d := w.DS; d != nil {
		ds := dataset(d)
		out.Dataset = &ds
	}
	return out
}

func dataset(d *experiment.Dataset) Dataset {
	out := Dataset{Name: d.Name, Format: d.Format, SHA256: d.SHA256, URL: d.URL, Path: d.Path, SizeBytes: d.SizeBytes}
	if d.License != nil {
		out.License = *d.License
	}
	if a := d.Archive; a != nil {
		out.Archive = &DatasetArchive{URL: a.URL, SHA256: a.SHA256, SizeBytes: a.SizeBytes, Member: a.Member}
		if a.Convert != nil {
			out.Archive.Convert = *a.Convert
		}
	}
	return out
}

func sweep(s *experiment.Sweep) Sweep {
	out := Sweep{Levels: []Level{}, PromptsPerLevel: s.PromptsPerLevel, Warmup: s.WarmupOr0(), Burstiness: s.BurstinessOr1(),
		MaxConcurrency: s.MaxConcurrency, MaxDurationS: s.MaxDurationS}
	for _, c := range s.Concurrency {
		out.Levels = append(out.Levels, Level{Index: len(out.Levels), Kind: "concurrency", Value: float64(c)})
	}
	for _, r := range s.Rates {
		out.Levels = append(out.Levels, Level{Index: len(out.Levels), Kind: "rate", Value: r})
	}
	if sr := s.Search; sr != nil && len(out.Levels) == 2 {
		first, last := out.Levels[0], out.Levels[1]
		search := &Search{Kind: first.Kind, Start: first.Value, Max: last.Value, Step: 1, MaxProbes: DefaultMaxProbes, BudgetS: sr.BudgetS}
		if first.Kind == "rate" {
			search.Step = first.Value / 4
		}
		if sr.Step != nil {
			search.Step = *sr.Step
		}
		if sr.MaxProbes != nil {
			search.MaxProbes = *sr.MaxProbes
		}
		out.Search = search
	}
	return out
}

// DefaultMaxProbes bounds a find-max search that names no max_probes.
const DefaultMaxProbes = 16

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// round keeps derived GiB figures short so that plans diff cleanly.
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

// EvalTokenizerOf is the pinned model's own tokenizer for lm-eval.
func EvalTokenizerOf(m Model) EvalTokenizer {
	if m.Path != "" {
		return EvalTokenizer{Backend: "huggingface", Source: m.Path, AddBOS: true}
	}
	return EvalTokenizer{Backend: "huggingface", Source: m.Repo, Revision: m.Revision, AddBOS: true}
}

// apiOf is the plan's copy of a catalog API, scores sorted by task so the
// plan does not change when blocks are reordered.
func apiOf(a *experiment.API) API {
	out := API{Name: a.Name, Provider: a.Provider, Model: a.Model, BaseURL: a.BaseURL,
		USDPer1MInput: a.USDPer1MInput, USDPer1MOutput: a.USDPer1MOutput, USDPer1MCachedInput: a.USDPer1MCachedInput,
		Source: a.Source, Observed: a.Observed, Scores: []Score{}}
	if a.Unscored != nil {
		out.Unscored = *a.Unscored
	}
	if a.Tokenizer != nil {
		out.Tokenizer = *a.Tokenizer
	}
	if a.TokenizerFactor != nil {
		out.TokenizerFactor = *a.TokenizerFactor
	}
	if a.TokenizerSource != nil {
		out.TokenizerSource = *a.TokenizerSource
	}
	for _, s := range a.Scores {
		sc := Score{Task: s.Task, Percent: s.Percent, Shots: s.Shots, Metric: s.Metric, Format: s.Format, Origin: s.Origin,
			Source: s.Source, Observed: s.Observed}
		if s.Note != nil {
			sc.Note = *s.Note
		}
		out.Scores = append(out.Scores, sc)
	}
	sort.Slice(out.Scores, func(i, j int) bool { return out.Scores[i].Task < out.Scores[j].Task })
	return out
}
