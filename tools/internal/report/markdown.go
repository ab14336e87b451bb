package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/cost"
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
	for _, e := range st.Entries {
		if r := e.Run.Plan.Rehearsal; r != nil {
			w.p("> **Rehearsal, not the study.** %s is the CPU rehearsal of %s: a stand-in model (%s) on %s at a placeholder\n"+
				"> price. It proves that the study's pipeline runs end to end; no figure here is a cost, a speed or a quality of the\n"+
				"> study's model. The study's settings are kept except the model, the hardware, the counts and these CPU exceptions:\n",
				e.Run.Label(), r.Of, e.Run.Plan.Model.Name, e.Run.Plan.Hardware.GPU)
			for _, ex := range r.Exceptions {
				w.p("> - `%s`: %s in the study, %s here (%s)\n", ex.Setting, ex.Study, ex.Rehearsal, ex.Reason)
			}
			w.p("\n")
			break
		}
	}
	st.lead(w)
	for _, line := range st.workloads() {
		w.p("%s\n\n", line)
	}
	w.p("At the highest load meeting the SLO (every level, peak included, is in the cost table below):\n\n")
	w.p("| self-hosted | highest level meeting SLO | $/1M tokens, utilization 1.0 | at 0.8 | $/1M output tokens |\n|---|---|---|---|---|\n")
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil {
			w.p("| %s | no cost.json (`forge cost %s`) | | | |\n", e.Run.Label(), e.Run.Dir)
			continue
		}
		l, ok := goodputLevel(c)
		if !ok {
			w.p("| %s | none: no level met the SLO | — | — | — |\n", e.Run.Label())
			continue
		}
		link := func(v *float64) string {
			if v == nil {
				return "—"
			}
			return w.link(usd(*v), e.Run.Dir, rundir.CostFile)
		}
		w.p("| %s | %s %g | **%s** | %s | %s |\n", e.Run.Label(), l.Level.Kind, l.Level.Value, link(l.USDPer1MTotalTokens["1.0"]),
			link(l.USDPer1MTotalTokens["0.8"]), link(l.USDPer1MOutputTokens["1.0"]))
	}
	w.p("\nAgainst each API, at this workload's token mix (input and output blended at their list prices), self-hosting at that load:\n\n")
	w.p("| self-hosted | API | API $/1M blended | price observed (linked to its source) | self-host cheaper above utilization | above volume (one GPU around the clock) |\n|---|---|---|---|---|---|\n")
	for _, e := range st.Entries {
		if e.Cost == nil {
			continue
		}
		_, good := goodputLevel(e.Cost)
		for _, a := range e.Cost.APIs {
			util, vol := "never: the API is cheaper even at full use", "—"
			switch {
			case !good:
				util = "no level met the SLO"
			case a.BreakEvenUtilization != nil && a.BreakEvenAtGoodputPerMon != nil:
				util = fmt.Sprintf("%.1f %%", 100**a.BreakEvenUtilization)
				vol = w.link(Human(*a.BreakEvenAtGoodputPerMon)+" tokens/month", e.Run.Dir, rundir.CostFile)
			}
			w.p("| %s | %s (%s) | %s | [%s](%s) | %s | %s |\n", e.Run.Label(), a.Model, a.Provider, usd(a.BlendedUSDPer1M), a.Observed, a.Source, util, vol)
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
	st.priceQuality(w)
	st.currencyTable(w)
	st.monthlyTable(w)
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
		served := "measured"
		if e.Run.Plan.Engine.Kind == "twin" {
			served = "simulated (twin, served live)"
		}
		for i, s := range e.Run.Summaries {
			f(e, s, e.Run.SummaryFiles[i], served)
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

// lead is the answer, conditional as the numbers are: for each run, what
// self-hosting costs at the highest load meeting the SLO, and against each
// API the utilization and monthly volume above which it is the cheaper
// choice. Nothing here comes from a level that fails the SLO; a simulated
// or rehearsal run says so on its own line.
func (st *Study) lead(w *writer) {
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil {
			continue
		}
		what := ""
		switch {
		case e.Run.Plan.Rehearsal != nil:
			what = "Rehearsal (a stand-in on a CPU, not a cost): "
		case c.TimeScale != nil:
			what = fmt.Sprintf("Simulated (twin at time scale %g, priced in modelled time): ", *c.TimeScale)
		case e.Run.Plan.Engine.Kind == "twin" || c.ThroughputSource == "predicted":
			what = "Simulated (twin): "
		}
		l, ok := goodputLevel(c)
		if !ok {
			w.p("- %s%s on %s: no level met the SLO, so no self-hosted price holds under it. %s\n", what, e.Run.Label(), c.GPU.Name, c.Goodput.Statement)
			continue
		}
		started := e.Run.State.StartedAt
		w.p("- %s%s on %s ($%.2f/h, %s, price of %s%s) costs %s per 1M tokens in and out at %s %g, the highest load meeting the SLO (%.1f output tokens/s), when busy all month; at utilization u it costs that divided by u.\n",
			what, e.Run.Label(), c.GPU.Name, c.Price.USDPerHour, c.Price.Provider, c.Price.Observed, stale(c.Price.Observed, started), usd(*l.USDPer1MTotalTokens["1.0"]),
			l.Level.Kind, l.Level.Value, l.OutputThroughput)
		for _, a := range c.APIs {
			if a.BreakEvenUtilization == nil || a.BreakEvenAtGoodputPerMon == nil {
				w.p("  - %s (%s, %s per 1M blended, price of %s%s) is cheaper at any volume this GPU can serve.\n", a.Model, a.Provider, usd(a.BlendedUSDPer1M), a.Observed, stale(a.Observed, started))
				continue
			}
			w.p("  - against %s (%s, %s per 1M blended, price of %s%s): self-hosting is cheaper above %.1f %% utilization, i.e. above %s tokens a month; below that the API is.\n",
				a.Model, a.Provider, usd(a.BlendedUSDPer1M), a.Observed, stale(a.Observed, started), 100**a.BreakEvenUtilization, Human(*a.BreakEvenAtGoodputPerMon))
		}
		st.leadOps(w, c)
		st.leadExpected(w, c)
	}
	w.p("\n")
}

// leadOps is the answer again with operations added, when the experiment
// names them: what they cost a month, the price per 1M tokens at the same
// load, and the break-even against each API.
func (st *Study) leadOps(w *writer, c *cost.Report) {
	o := c.Ops
	if o == nil || o.USDPer1MTotalTokens["1.0"] == nil {
		return
	}
	w.p("  - with operations ($%.0f a month: engineers $%.0f, %d spare GPU(s) $%.0f%s), %s per 1M tokens at the same load when busy all month",
		o.USDPerMonth, o.EngineerUSDPerMonth, o.RedundantGPUs, o.RedundancyUSDPerMonth, sourceNote(o.Source), usd(*o.USDPer1MTotalTokens["1.0"]))
	if ow := o.Owned; ow != nil && ow.USDPer1MTotalTokens["1.0"] != nil {
		w.p(" (owned, spares owned too: %s)", usd(*ow.USDPer1MTotalTokens["1.0"]))
	}
	w.p(":")
	var parts []string
	for _, a := range c.APIs {
		if u := o.BreakEvenUtilization[a.Name]; u != nil {
			parts = append(parts, fmt.Sprintf("cheaper than %s above %.1f %% utilization (%s tokens a month)", a.Model, 100**u, Human(*o.BreakEvenTokensPerMon[a.Name])))
		} else {
			parts = append(parts, fmt.Sprintf("never cheaper than %s", a.Model))
		}
	}
	w.p(" %s.\n", strings.Join(parts, "; "))
}

func sourceNote(s string) string {
	if s == "" {
		return ""
	}
	return ", source: " + s
}

// StaleDays is the age past which a price is called stale, as forge
// validate warns.
const StaleDays = 180

// stale notes a price observed more than StaleDays before the run started.
func stale(observed, started string) string {
	o, err1 := time.Parse("2006-01-02", observed)
	s, err2 := time.Parse(time.RFC3339, started)
	if err1 != nil || err2 != nil {
		return ""
	}
	if days := int(s.Sub(o).Hours() / 24); days > StaleDays {
		return fmt.Sprintf(", **stale**: %d days before the run", days)
	}
	return ""
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
