package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/provenance"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// Markdown renders report.md for a report written into outDir: the answer
// first, then the charts (those present in outDir/charts), then the table
// behind every chart and the provenance of every run. Links are relative to
// outDir, so the report reads the same wherever results/ is copied.
func (st *Study) Markdown(outDir string) []byte {
	w := &writer{out: outDir}
	w.p("# Forge report: %s\n\n", st.Title())
	for _, b := range st.Banners() {
		w.p("> **%s**\n\n", b)
	}
	st.answer(w)
	st.charts(w)
	st.throughputTable(w)
	st.latencyTable(w, "TTFT", "ttft", func(s bench.Summary) bench.Stats { return s.TTFT })
	st.latencyTable(w, "TPOT", "tpot", func(s bench.Summary) bench.Stats { return s.TPOT })
	st.costTable(w)
	st.qualityTable(w)
	st.provenanceTable(w)
	return []byte(w.b.String())
}

type writer struct {
	b   strings.Builder
	out string
}

func (w *writer) p(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

// link writes text as a link to file (relative to the run directory dir).
func (w *writer) link(text, dir, file string) string {
	rel, err := filepath.Rel(w.out, filepath.Join(dir, file))
	if err != nil {
		rel = filepath.Join(dir, file)
	}
	return fmt.Sprintf("[%s](%s)", text, filepath.ToSlash(rel))
}

// usd writes a price with enough digits to compare small figures.
func usd(v float64) string {
	if v < 1 {
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

func (st *Study) answer(w *writer) {
	w.p("## The answer\n\n")
	for _, e := range st.Entries {
		if e.Run.Plan.Engine.Kind == "twin" {
			w.p("> **Simulated, not measured.** These figures come from Forge's twin engine, a model of vLLM on this GPU,\n" +
				"> not from the GPU itself. They exercise the pipeline and state the model's expectation; measure on the\n" +
				"> real hardware (docs/runpod.md) before deciding.\n\n")
			break
		}
	}
	st.lead(w)
	for _, line := range st.workloads() {
		w.p("%s\n\n", line)
	}
	w.p("| self-hosted | $/1M tokens, utilization 1.0 | at 0.8 | $/1M output tokens | at goodput (meets SLO) | highest level meeting SLO |\n|---|---|---|---|---|---|\n")
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil {
			w.p("| %s | no cost.json (`forge cost %s`) | | | | |\n", e.Run.Label(), e.Run.Dir)
			continue
		}
		l := headlineLevel(c)
		at08 := "—"
		if v := l.USDPer1MTotalTokens["0.8"]; v != nil {
			at08 = w.link(usd(*v), e.Run.Dir, rundir.CostFile)
		}
		good, goodLevel := "none", "none"
		if c.Goodput.Level != nil {
			good = w.link(usd(*c.Goodput.USDPer1MTotalTokens), e.Run.Dir, rundir.CostFile)
			goodLevel = fmt.Sprintf("%s %g", c.Goodput.Level.Kind, c.Goodput.Level.Value)
		}
		w.p("| %s | **%s** at %s %g | %s | %s | %s | %s |\n", e.Run.Label(), w.link(usd(c.Headline.USDPer1MTotalTokens), e.Run.Dir, rundir.CostFile),
			c.Headline.Level.Kind, c.Headline.Level.Value, at08, w.link(usd(c.Headline.USDPer1MOutputTokens), e.Run.Dir, rundir.CostFile), good, goodLevel)
	}
	w.p("\nAgainst each API, at this workload's token mix (input and output blended at their list prices):\n\n")
	w.p("| self-hosted | API | API $/1M blended | self-host ÷ API | cheaper | break-even volume (one GPU around the clock) |\n|---|---|---|---|---|---|\n")
	for _, e := range st.Entries {
		if e.Cost == nil {
			continue
		}
		for _, a := range e.Cost.APIs {
			be := "never: the API is cheaper per token"
			if a.BreakEvenTokensPerMonth != nil {
				be = fmt.Sprintf("above %s tokens/month", w.link(Human(*a.BreakEvenTokensPerMonth), e.Run.Dir, rundir.CostFile))
			}
			w.p("| %s | %s (%s) | %s | %.3f | %s | %s |\n", e.Run.Label(), a.Model, a.Provider, usd(a.BlendedUSDPer1M), a.SelfHostToAPIRatio, a.Cheaper, be)
		}
	}
	w.p("\n")
	for _, e := range st.Entries {
		if e.Cost != nil {
			w.p("- %s: %s\n", e.Run.Label(), e.Cost.Goodput.Statement)
		}
	}
	pairs := st.Pairs()
	quality := false
	for _, pr := range pairs {
		for _, r := range pr.Retention {
			quality = true
			ci := ""
			if r.Low != nil {
				ci = fmt.Sprintf(" (95 %% interval %.1f–%.1f %%)", 100**r.Low, 100**r.High)
			}
			if math.IsNaN(r.Ratio) {
				w.p("- Quality: %s scores %s against %s's %s on %s: no ratio (the baseline scores 0).\n", pr.Quant.Run.Label(), w.score(pr.Quant, r.Quant.Score), pr.Base.Run.Label(), w.score(pr.Base, r.Baseline.Score), taskName(r))
				continue
			}
			w.p("- Quality: %s keeps %.1f %% of %s's %s%s.\n", pr.Quant.Run.Label(), 100*r.Ratio, pr.Base.Run.Label(), taskName(r), ci)
		}
	}
	if !quality {
		w.p("- Quality: no eval run in this study, so this answer says nothing yet about what quantization costs in accuracy. %s\n", st.noEvalReason(pairs))
	}
	w.p("\n")
}

func (st *Study) charts(w *writer) {
	var present []string
	for _, n := range chart.Names {
		if _, err := os.Stat(filepath.Join(w.out, rundir.ChartsDir, n+".png")); err == nil {
			present = append(present, n)
		}
	}
	if len(present) == 0 {
		return
	}
	w.p("## Charts\n\n")
	for _, n := range present {
		w.p("![%s](charts/%s.png)\n\n", n, n)
	}
}

func (st *Study) throughputTable(w *writer) {
	w.p("## Throughput (chart: throughput)\n\n| run | level | output tok/s | total tok/s | requests/s | completed | failed | source |\n|---|---|---|---|---|---|---|---|\n")
	st.eachLevel(func(e Entry, s bench.Summary, file, source string) {
		l := func(v string) string { return w.link(v, e.Run.Dir, file) }
		w.p("| %s | %s %g | %s | %s | %s | %d | %d | %s |\n", e.Run.Label(), s.Level.Kind, s.Level.Value, l(fmt.Sprintf("%.1f", s.OutputThroughput)),
			l(fmt.Sprintf("%.1f", s.TotalTokenThroughput)), l(fmt.Sprintf("%.2f", s.RequestThroughput)), s.Completed, s.Failed, source)
	})
	w.p("\n")
}

func (st *Study) latencyTable(w *writer, name, chartName string, stat func(bench.Summary) bench.Stats) {
	w.p("## %s in ms (chart: %s)\n\n| run | level | p50 | p90 | p99 | mean | source |\n|---|---|---|---|---|---|---|\n", name, chartName)
	st.eachLevel(func(e Entry, s bench.Summary, file, source string) {
		v := stat(s)
		l := func(x *float64) string { return w.link(bench.FormatMs(x), e.Run.Dir, file) }
		w.p("| %s | %s %g | %s | %s | %s | %s | %s |\n", e.Run.Label(), s.Level.Kind, s.Level.Value, l(v.P50), l(v.P90), l(v.P99), l(v.Mean), source)
	})
	w.p("\n")
}

// eachLevel visits measured levels, then predicted ones, run by run.
func (st *Study) eachLevel(f func(e Entry, s bench.Summary, file, source string)) {
	for _, e := range st.Entries {
		for i, s := range e.Run.Summaries {
			f(e, s, e.Run.SummaryFiles[i], "measured")
		}
		for i, s := range e.Run.Predicted {
			f(e, s, e.Run.PredictedFiles[i], "predicted (twin model)")
		}
	}
}

func (st *Study) costTable(w *writer) {
	w.p("## Cost per 1M tokens (chart: cost)\n\n")
	w.p("`%s`; input and output are split by the share of GPU time spent in prefill.\n\n", strings.TrimSpace(st.formula()))
	w.p("| run | level | $/1M tokens @1.0 | @0.8 | $/1M output @1.0 | input $/1M | output $/1M | input share | meets SLO |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, e := range st.Entries {
		if e.Cost == nil {
			continue
		}
		for _, l := range e.Cost.Levels {
			c := func(v *float64) string {
				if v == nil {
					return "—"
				}
				return w.link(usd(*v), e.Run.Dir, rundir.CostFile)
			}
			w.p("| %s | %s %g | %s | %s | %s | %s | %s | %.3f | %v |\n", e.Run.Label(), l.Level.Kind, l.Level.Value, c(l.USDPer1MTotalTokens["1.0"]),
				c(l.USDPer1MTotalTokens["0.8"]), c(l.USDPer1MOutputTokens["1.0"]), c(l.USDPer1MInput), c(l.USDPer1MOutput), l.InputShare, l.MeetsSLO)
		}
		if o := e.Cost.Owned; o != nil {
			if v := o.USDPer1MTotalTokens["1.0"]; v != nil {
				w.p("| %s, owned ($%.0f over %g months, %g W at $%.2f/kWh = $%.3f/h) | headline | %s | | | | | | |\n", e.Run.Label(), o.CapexUSD,
					o.AmortizationMonths, o.Watts, o.USDPerKWh, o.USDPerHourEquivalent, w.link(usd(*v), e.Run.Dir, rundir.CostFile))
			}
		}
	}
	w.p("\n| API | input $/1M | output $/1M | blended at the run's mix | source | observed |\n|---|---|---|---|---|---|\n")
	for _, a := range st.apis() {
		w.p("| %s (%s) | %s | %s | %s | %s | %s |\n", a.Model, a.Provider, usd(a.USDPer1MInput), usd(a.USDPer1MOutput), usd(a.BlendedUSDPer1M), a.Source, a.Observed)
	}
	w.p("\n")
}

func (st *Study) formula() string {
	for _, e := range st.Entries {
		if e.Cost != nil {
			return e.Cost.Formula
		}
	}
	return "no cost report"
}

func (st *Study) qualityTable(w *writer) {
	w.p("## Quality retention (chart: quality)\n\n")
	any := false
	for _, pr := range st.Pairs() {
		for _, r := range pr.Retention {
			if !any {
				w.p("| task | baseline | quantized | retention | difference | interval (95 %%) | method |\n|---|---|---|---|---|---|---|\n")
				any = true
			}
			ci := "—"
			if r.Low != nil {
				ci = fmt.Sprintf("%.1f–%.1f %%", 100**r.Low, 100**r.High)
			}
			ratio := "n/a"
			if !math.IsNaN(r.Ratio) {
				ratio = fmt.Sprintf("%.1f %%", 100*r.Ratio)
			}
			if p := r.Paired; p != nil {
				ci += fmt.Sprintf("; difference %+.4f to %+.4f", p.DiffLow, p.DiffHigh)
			}
			w.p("| %s | %s (%s) | %s (%s) | %s | %+.4f | %s | %s |\n", taskName(r), w.score(pr.Base, r.Baseline.Score), pr.Base.Run.Label(),
				w.score(pr.Quant, r.Quant.Score), pr.Quant.Run.Label(), ratio, r.Difference, ci, r.Method)
		}
	}
	if !any {
		w.p("No eval run. %s\n", st.noEvalReason(st.Pairs()))
	}
	w.p("\n")
}

// score links a score to the entry's eval file when there is one.
func (w *writer) score(e *Entry, v float64) string {
	text := fmt.Sprintf("%.4f", v)
	if len(e.EvalFiles) == 0 {
		return text
	}
	return w.link(text, e.Run.Dir, e.EvalFiles[0])
}

func (st *Study) provenanceTable(w *writer) {
	w.p("## Provenance\n\n| run | GPU | engine | model @ revision | dataset sha256 | forge commit | GPU price | plan |\n|---|---|---|---|---|---|---|---|\n")
	for _, e := range st.Entries {
		p := e.Run.Plan
		prov := provenanceOf(e.Run)
		ds := "none"
		if prov.DatasetSHA256 != nil {
			ds = (*prov.DatasetSHA256)[:12] + "…"
		}
		w.p("| %s | %s | %s %s | %s @ %s | %s | %s | $%.2f/h %s, %s | %s |\n", w.link(filepath.Base(e.Run.Dir), e.Run.Dir, rundir.PlanFile), prov.GPU,
			prov.Engine.Name, prov.Engine.Version, p.Model.Repo, short(p.Model.Revision), ds, prov.ForgeCommit,
			p.Hardware.Price.USDPerHour, p.Hardware.Price.Provider, p.Hardware.Price.Observed, short(strings.TrimPrefix(p.Hash, "sha256:")))
	}
	w.p("\n")
}

func provenanceOf(r *rundir.Run) provenance.Record {
	if len(r.Summaries) > 0 {
		return r.Summaries[0].Provenance
	}
	if len(r.Predicted) > 0 {
		return r.Predicted[0].Provenance
	}
	return provenance.Record{GPU: r.Plan.Hardware.GPU, Engine: provenance.Engine{Name: r.Plan.Engine.Kind, Version: r.Plan.Engine.Version}, ForgeCommit: "unknown"}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// Human writes a count briefly: 26280000 as "26.3M".
func Human(v float64) string {
	switch {
	case v >= 1e12:
		return fmt.Sprintf("%.1fT", v/1e12)
	case v >= 1e9:
		return fmt.Sprintf("%.1fB", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// lead is the answer in one paragraph, for the first run that has a cost.
func (st *Study) lead(w *writer) {
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil || len(c.APIs) == 0 {
			continue
		}
		cheaper, dearer := []string{}, []string{}
		for _, a := range c.APIs {
			if a.Cheaper == "self-host" {
				cheaper = append(cheaper, fmt.Sprintf("%s at %s (break-even above %s tokens/month)", a.Model, usd(a.BlendedUSDPer1M), Human(*a.BreakEvenTokensPerMonth)))
			} else {
				dearer = append(dearer, fmt.Sprintf("%s at %s", a.Model, usd(a.BlendedUSDPer1M)))
			}
		}
		verdict := "**Self-hosting is cheaper than every API compared**"
		switch {
		case len(cheaper) == 0:
			verdict = "**Every API compared is cheaper than self-hosting**"
		case len(dearer) > 0:
			verdict = "**Self-hosting is cheaper than some of the APIs compared**"
		}
		l := headlineLevel(c)
		w.p("%s for this workload: %s on %s ($%.2f/h, %s, price of %s) costs %s per 1M tokens in and out at peak throughput (%s %g, %.1f output tokens/s, utilization 1.0",
			verdict, e.Run.Label(), c.GPU.Name, c.Price.USDPerHour, c.Price.Provider, c.Price.Observed, usd(c.Headline.USDPer1MTotalTokens),
			c.Headline.Level.Kind, c.Headline.Level.Value, l.OutputThroughput)
		if v := l.USDPer1MTotalTokens["0.8"]; v != nil {
			w.p("; %s at 0.8", usd(*v))
		}
		w.p(")")
		if len(cheaper) > 0 {
			w.p(", against %s", strings.Join(cheaper, " and "))
		}
		if len(dearer) > 0 {
			w.p("; the API is cheaper for %s", strings.Join(dearer, " and "))
		}
		w.p(". %s\n\n", c.Goodput.Statement)
		return
	}
}

// workloads says what load the study's runs were, one line per distinct
// workload naming its experiments, so that nobody reads a fixed-length
// load for a chat trace: the prompts, the output lengths and how many
// requests each level sent.
func (st *Study) workloads() []string {
	var whats []string
	exps := map[string][]string{}
	for _, e := range st.Entries {
		p := e.Run.Plan
		wl := p.Workload
		var what string
		switch wl.Kind {
		case "sharegpt":
			what = "ShareGPT: the first human turn of each conversation as the prompt"
		case "random":
			what = "random token prompts"
			if wl.InputTokens != nil {
				what = fmt.Sprintf("random token prompts of %d tokens", *wl.InputTokens)
			}
		default:
			what = wl.Kind + " requests"
		}
		if wl.Dataset != nil {
			what += fmt.Sprintf(" (%s, sha256 %s…)", wl.Dataset.Name, wl.Dataset.SHA256[:min(12, len(wl.Dataset.SHA256))])
		}
		switch {
		case wl.OutputTokens != nil && wl.IgnoreEOS:
			what += fmt.Sprintf("; every output exactly %d tokens (ignore_eos), not the dataset's reply lengths", *wl.OutputTokens)
		case wl.OutputTokens != nil:
			what += fmt.Sprintf("; outputs capped at %d tokens", *wl.OutputTokens)
		default:
			what += "; output lengths from the dataset's replies"
		}
		what += fmt.Sprintf("; %d measured requests per level after %d warmup, %s API.", p.Sweep.PromptsPerLevel, p.Sweep.Warmup, wl.API)
		if _, seen := exps[what]; !seen {
			whats = append(whats, what)
		}
		exps[what] = append(exps[what], p.Experiment)
	}
	out := make([]string, len(whats))
	for i, what := range whats {
		out[i] = fmt.Sprintf("**Workload** (%s): %s", strings.Join(exps[what], ", "), what)
	}
	return out
}
