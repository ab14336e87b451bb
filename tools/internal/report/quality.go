package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/forge-bench/forge/tools/internal/cost"
	"github.com/forge-bench/forge/tools/internal/eval"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
)

// qualityTasks are the study's tasks in the order the report shows them.
var qualityTasks = []string{"mmlu", "gsm8k", "hellaswag"}

// measuredFormat is how Forge's eval prompts: lm-eval's local-completions,
// raw text with no chat template, log-likelihood for multiple choice.
const measuredFormat = "completion"

// measured is the first record of each task among a run's eval files: the
// score the study's own settings gave, as lm-eval reported it.
func measured(e *Entry) map[string]eval.Task {
	out := map[string]eval.Task{}
	for _, r := range e.Evals {
		for _, t := range r.Tasks {
			if _, ok := out[t.Task]; !ok {
				out[t.Task] = t
			}
		}
	}
	return out
}

// priceQuality puts each option's quality next to its price, self-hosted
// runs first (scored here) and then each API (scored by its source), and
// says where the cheaper option is also the weaker one. Published scores
// are rarely measured the way the study measures, so every cell carries its
// settings and a comparison across settings says it is indicative.
func (st *Study) priceQuality(w *writer) {
	apis := st.apis()
	if len(apis) == 0 {
		return
	}
	w.p("Quality next to price: scores measured here are lm-eval's under the study's settings (%s prompts); published scores are their source's, under the settings shown. Where the settings differ, a gap between them is indicative, not exact.\n\n", measuredFormat)
	w.p("| option | $/1M tokens | MMLU | GSM8K | HellaSwag | quality source |\n|---|---|---|---|---|---|\n")
	for i := range st.Entries {
		e := &st.Entries[i]
		price := "—"
		if e.Cost != nil {
			if l, ok := goodputLevel(e.Cost); ok && l.USDPer1MTotalTokens["1.0"] != nil {
				price = usd(*l.USDPer1MTotalTokens["1.0"]) + " at the SLO load, busy all month"
			}
		}
		got := measured(e)
		cells := make([]string, len(qualityTasks))
		for k, task := range qualityTasks {
			cells[k] = "not run"
			if t, ok := got[task]; ok {
				cells[k] = fmt.Sprintf("%.1f: %d-shot %s, %s, measured here (n=%d)", 100*t.Score, t.Shots, t.Metric, measuredFormat, t.N)
			}
		}
		src := "no eval run"
		if len(e.EvalFiles) > 0 {
			src = w.link("eval records", e.Run.Dir, rundir.EvalDir)
		}
		w.p("| %s (self-hosted%s) | %s | %s | %s |\n", e.Run.Label(), simulatedNote(e), price, strings.Join(cells, " | "), src)
	}
	for _, a := range apis {
		cells := make([]string, len(qualityTasks))
		var sources []string
		for k, task := range qualityTasks {
			cells[k] = "not published"
			if sc, ok := scoreOf(a, task); ok {
				cells[k] = fmt.Sprintf("%.1f: %s", sc.Percent, settings(sc))
				sources = appendUnique(sources, fmt.Sprintf("%s (read %s)", sc.Source, sc.Observed))
			}
		}
		if len(a.Scores) == 0 {
			sources = []string{"none: " + a.Unscored}
			if a.Unscored == "" {
				sources = []string{"none in the catalog"}
			}
		}
		w.p("| %s (%s) | %s blended | %s | %s |\n", a.Model, a.Provider, usd(a.BlendedUSDPer1M), strings.Join(cells, " | "), strings.Join(sources, "; "))
	}
	w.p("\n")
	if lines := st.cheaperAndWeaker(); len(lines) > 0 {
		w.p("- %s\n\n", strings.Join(lines, "\n- "))
	}
}

// cheaperAndWeaker names every case where the option that costs less is
// also the one that scores lower on a task both were scored on: self-
// hosting that can undercut an API which scores higher, or an API that is
// cheaper at any volume and scores lower than the run measured here.
func (st *Study) cheaperAndWeaker() []string {
	var out []string
	for i := range st.Entries {
		e := &st.Entries[i]
		if e.Cost == nil {
			continue
		}
		got := measured(e)
		for _, a := range e.Cost.APIs {
			for _, task := range qualityTasks {
				sc, ok := scoreOf(a, task)
				t, okm := got[task]
				if !ok || !okm {
					continue
				}
				self := 100 * t.Score
				both := fmt.Sprintf("%.1f measured here (%d-shot %s, %s) against %.1f %s (%s)%s", self, t.Shots, t.Metric, measuredFormat,
					sc.Percent, sc.Origin, settings(sc), differ(t, sc))
				switch {
				case a.BreakEvenUtilization != nil && sc.Percent > self:
					out = append(out, fmt.Sprintf("Cheaper but weaker: %s costs less than %s (%s) above %.1f %% utilization, and scores lower on %s: %s.",
						e.Run.Label(), a.Model, a.Provider, 100**a.BreakEvenUtilization, task, both))
				case a.BreakEvenUtilization == nil && sc.Percent < self:
					out = append(out, fmt.Sprintf("Cheaper but weaker: %s (%s) costs less than %s at any volume this GPU serves, and scores lower on %s: %s.",
						a.Model, a.Provider, e.Run.Label(), task, both))
				}
			}
		}
	}
	return out
}

func scoreOf(a cost.API, task string) (plan.Score, bool) {
	for _, s := range a.Scores {
		if s.Task == task {
			return s, true
		}
	}
	return plan.Score{}, false
}

func settings(s plan.Score) string {
	out := fmt.Sprintf("%d-shot %s, %s, %s", s.Shots, s.Metric, s.Format, s.Origin)
	if s.Note != "" {
		out += "; " + s.Note
	}
	return out
}

// differ says when a measured and a published score were not taken the
// same way, which is nearly always.
func differ(t eval.Task, s plan.Score) string {
	if t.Shots == s.Shots && s.Format == measuredFormat {
		return ""
	}
	return "; the settings differ, so the gap is indicative"
}

// simulatedNote marks a self-hosted row whose price is not a measurement.
func simulatedNote(e *Entry) string {
	switch {
	case e.Run.Plan.Rehearsal != nil:
		return ", rehearsal stand-in"
	case e.Run.Plan.Engine.Kind == "twin" || (e.Cost != nil && e.Cost.ThroughputSource == "predicted"):
		return ", simulated (twin)"
	}
	return ""
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
