// Package report assembles runs into what a reader decides with: the chart
// data and report.md, which opens with the answer (self-host vs each API)
// and then gives the table behind every chart, each number linked to the
// JSON file it came from. It reads results/ only.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// Entry is one run with what later stages wrote for it.
type Entry struct {
	Run       *rundir.Run
	Cost      *cost.Report // nil without cost.json
	Evals     []eval.Run
	EvalFiles []string
	// Retention is eval/retention.json (forge retention), nil without one.
	Retention *eval.RetentionReport
}

// Study is the runs a report or chart set compares, in the order given.
type Study struct {
	Entries []Entry
}

// Load reads run directories (already resolved) and their cost and eval files.
func Load(dirs []string) (*Study, error) {
	st := &Study{}
	for _, d := range dirs {
		r, err := rundir.LoadRun(d)
		if err != nil {
			return nil, err
		}
		e := Entry{Run: r}
		if data, err := os.ReadFile(filepath.Join(d, rundir.CostFile)); err == nil {
			e.Cost = &cost.Report{}
			if err := json.Unmarshal(data, e.Cost); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(d, rundir.CostFile), err)
			}
		}
		if e.Evals, e.EvalFiles, err = eval.Load(d); err != nil {
			return nil, err
		}
		if e.Retention, err = eval.LoadRetention(filepath.Join(d, rundir.EvalDir, eval.RetentionFile)); err != nil {
			return nil, err
		}
		st.Entries = append(st.Entries, e)
	}
	if len(st.Entries) == 0 {
		return nil, fmt.Errorf("no runs to report on")
	}
	return st, nil
}

// Pair is a quantized run and the baseline its plan names, with retention.
type Pair struct {
	Base, Quant *Entry
	Retention   []eval.Retention
}

// Pairs finds, for every run whose plan names an eval baseline, that
// baseline among the study's runs.
func (st *Study) Pairs() []Pair {
	var out []Pair
	for i := range st.Entries {
		q := &st.Entries[i]
		ev := q.Run.Plan.Eval
		if ev == nil || ev.Baseline == "" {
			continue
		}
		for j := range st.Entries {
			if b := &st.Entries[j]; b.Run.Plan.Experiment == ev.Baseline {
				ret := eval.Retain(b.Evals, q.Evals)
				if rep := q.Retention; rep != nil && rep.Baseline.RunID == filepath.Base(b.Run.Dir) {
					ret = eval.ApplyPaired(ret, rep)
				}
				out = append(out, Pair{Base: b, Quant: q, Retention: ret})
				break
			}
		}
	}
	return out
}

// Title names what the study ran on, e.g. "NVIDIA RTX A5000 (twin engine)".
func (st *Study) Title() string {
	var gpus, engines []string
	for _, e := range st.Entries {
		gpus = appendUnique(gpus, e.Run.Plan.Hardware.GPU)
		engines = appendUnique(engines, e.Run.Plan.Engine.Kind)
	}
	t := strings.Join(gpus, " vs ")
	predicted := true
	for _, e := range st.Entries {
		predicted = predicted && len(e.Run.Summaries) == 0 && len(e.Run.Predicted) > 0
	}
	switch {
	case predicted:
		t += " (predicted by the twin in virtual time, not measured)"
	case len(engines) == 1 && engines[0] == "twin":
		t += " (twin engine)"
	}
	for _, e := range st.Entries {
		if e.Run.Plan.Rehearsal != nil {
			t = "REHEARSAL (stand-in model, not the study): " + t
			break
		}
	}
	if len(st.Banners()) > 0 {
		t = "INCOMPLETE: " + t
	}
	return t
}

// Banners are the INCOMPLETE/FAILED lines of the study's runs that are not
// complete, one per run, naming the run, the cause and the levels with
// their counts; none when every run is complete.
func (st *Study) Banners() []string {
	var out []string
	for _, e := range st.Entries {
		if b := e.Run.State.Banner(); b != "" {
			out = append(out, fmt.Sprintf("%s/%s: %s", e.Run.Plan.Experiment, filepath.Base(e.Run.Dir), b))
		}
	}
	return out
}

// Footer names the runs and the price dates, for the bottom of every chart.
func (st *Study) Footer() string {
	var ids, prices []string
	for _, e := range st.Entries {
		ids = append(ids, e.Run.Plan.Experiment+"/"+filepath.Base(e.Run.Dir))
		pr := e.Run.Plan.Hardware.Price
		prices = appendUnique(prices, fmt.Sprintf("%s $%.2f/h observed %s", pr.Provider, pr.USDPerHour, pr.Observed))
	}
	if api := st.apis(); len(api) > 0 {
		var dates []string
		for _, a := range api {
			dates = appendUnique(dates, a.Observed)
		}
		prices = append(prices, "API prices observed "+strings.Join(dates, ", "))
	}
	return "runs: " + strings.Join(ids, ", ") + " · " + strings.Join(prices, "; ")
}

// apis are the APIs compared by any run, first occurrence wins (the blend
// depends on the run's token mix, which the runs of a study share).
func (st *Study) apis() []cost.API {
	var out []cost.API
	seen := map[string]bool{}
	for _, e := range st.Entries {
		if e.Cost == nil {
			continue
		}
		for _, a := range e.Cost.APIs {
			if !seen[a.Name] {
				seen[a.Name] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// ChartSet extracts the charts' data: the five canonical ones and the TCO.
func (st *Study) ChartSet() chart.Set {
	s := chart.Set{Title: st.Title(), XLabel: "concurrency (requests in flight)", Footer: st.Footer()}
	for _, e := range st.Entries {
		p := e.Run.Plan
		if len(p.Sweep.Levels) > 0 && p.Sweep.Levels[0].Kind == "rate" {
			s.XLabel = "request rate (req/s)"
		}
		if p.SLO != nil && s.SLO.TTFTP99Ms == nil && s.SLO.TPOTP99Ms == nil {
			s.SLO.TTFTP99Ms, s.SLO.TPOTP99Ms = p.SLO.TTFTP99Ms, p.SLO.TPOTP99Ms
		}
		if len(e.Run.Summaries) > 0 {
			s.Series = append(s.Series, series(e.Run.Label(), false, e.Run.Summaries))
		}
		if len(e.Run.Predicted) > 0 {
			s.Series = append(s.Series, series(e.Run.Label()+" (predicted)", true, e.Run.Predicted))
		}
		if c := e.Cost; c != nil {
			bar := chart.CostBar{Label: e.Run.Label()}
			if c.ThroughputSource == "predicted" {
				bar.Label += " (predicted)"
			}
			for _, u := range utilKeys(c) {
				if v := headlineLevel(c).USDPer1MTotalTokens[u]; v != nil {
					bar.ByUtil = append(bar.ByUtil, chart.UtilCost{Utilization: parseUtil(u), USDPer1M: *v})
				}
			}
			s.Costs = append(s.Costs, bar)
		}
	}
	for _, a := range st.apis() {
		s.APIs = append(s.APIs, chart.APIBar{Label: a.Model + " API", USDPer1M: a.BlendedUSDPer1M})
	}
	pairs := st.Pairs()
	for _, pr := range pairs {
		for _, r := range pr.Retention {
			s.Tasks = append(s.Tasks, chart.Task{Name: taskName(r), BaselineLabel: pr.Base.Run.Label(), QuantLabel: pr.Quant.Run.Label(),
				Baseline: r.Baseline.Score, Quant: r.Quant.Score, BaselineErr: r.Baseline.Stderr, QuantErr: r.Quant.Stderr,
				Retention: r.Ratio, RetentionLow: r.Low, RetentionHigh: r.High})
		}
	}
	if len(s.Tasks) == 0 {
		s.NoEvalReason = st.noEvalReason(pairs)
	}
	s.TCO = st.tco()
	return s
}

func (st *Study) noEvalReason(pairs []Pair) string {
	if len(pairs) == 0 {
		return "No run here names an eval baseline (eval { baseline = ... }) that is also in this study."
	}
	return fmt.Sprintf("No eval/ results for %s and %s yet: `forge eval` writes them.", pairs[0].Quant.Run.Plan.Experiment, pairs[0].Base.Run.Plan.Experiment)
}

func taskName(r eval.Retention) string {
	n := fmt.Sprintf("%s (%d-shot, %s", r.Task, r.Shots, r.Metric)
	if r.Filter != "" && r.Filter != "none" {
		n += ", " + r.Filter
	}
	return n + ")"
}

func series(label string, predicted bool, sums []bench.Summary) chart.Series {
	out := chart.Series{Label: label, Predicted: predicted}
	for _, s := range sums {
		out.Points = append(out.Points, chart.Point{X: s.Level.Value, OutputTPS: s.OutputThroughput,
			TTFTP50Ms: s.TTFT.P50, TTFTP99Ms: s.TTFT.P99, TPOTP50Ms: s.TPOT.P50, TPOTP99Ms: s.TPOT.P99})
	}
	sort.SliceStable(out.Points, func(i, j int) bool { return out.Points[i].X < out.Points[j].X })
	return out
}

// headlineLevel is the cost level the headline was taken from.
// goodputLevel is the cost at the highest level meeting the SLO, if any.
func goodputLevel(c *cost.Report) (cost.Level, bool) {
	if c.Goodput.Level == nil {
		return cost.Level{}, false
	}
	for _, l := range c.Levels {
		if l.Level.Index == c.Goodput.Level.Index && l.USDPer1MTotalTokens["1.0"] != nil {
			return l, true
		}
	}
	return cost.Level{}, false
}

func headlineLevel(c *cost.Report) cost.Level {
	for _, l := range c.Levels {
		if l.Level.Index == c.Headline.Level.Index {
			return l
		}
	}
	return cost.Level{}
}

// utilKeys are a report's utilizations, highest first ("1.0", "0.8").
func utilKeys(c *cost.Report) []string {
	var keys []string
	for k := range headlineLevel(c).USDPer1MTotalTokens {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return parseUtil(keys[i]) > parseUtil(keys[j]) })
	return keys
}

func parseUtil(k string) float64 {
	var v float64
	fmt.Sscanf(k, "%g", &v)
	return v
}

func appendUnique(xs []string, v string) []string {
	for _, x := range xs {
		if x == v {
			return xs
		}
	}
	return append(xs, v)
}
