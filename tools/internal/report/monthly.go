package report

import (
	"fmt"
	"strings"

	"github.com/forge-bench/forge/tools/internal/chart"
	"github.com/forge-bench/forge/tools/internal/cost"
)

// leadExpected is the answer at the user's expected volume: what a month
// costs self-hosted (replicas at the SLO load, rented, owned, with
// operations) and through each API.
func (st *Study) leadExpected(w *writer, c *cost.Report) {
	for _, m := range c.Monthly {
		if !m.Expected {
			continue
		}
		w.p("  - at the expected %s tokens a month: self-hosting %s (%s)", Human(m.TokensPerMonth), usd(m.RentedUSD), replicas(m))
		for _, o := range optional(m) {
			w.p(", %s %s", o.name, usd(o.usd))
		}
		var apis []string
		for _, a := range c.APIs {
			apis = append(apis, fmt.Sprintf("%s %s", a.Model, usd(m.APIs[a.Name])))
		}
		w.p("; against %s.\n", strings.Join(apis, ", "))
	}
}

func replicas(m cost.Monthly) string {
	return fmt.Sprintf("%d replica(s) busy %.1f %% of the month at the SLO load", m.Replicas, 100*m.Utilization)
}

// figure is one named monthly amount.
type figure struct {
	name string
	usd  float64
}

// optional are the monthly figures the experiment asked for beyond rent.
func optional(m cost.Monthly) []figure {
	var out []figure
	for _, f := range []struct {
		name string
		v    *float64
	}{{"with operations", m.RentedWithOpsUSD}, {"owned", m.OwnedUSD}, {"owned with operations", m.OwnedWithOpsUSD}} {
		if f.v != nil {
			out = append(out, figure{f.name, *f.v})
		}
	}
	return out
}

// monthlyTable is dollars a month by volume, each way (cost.json monthly,
// the TCO chart's numbers), for the first run that has them.
func (st *Study) monthlyTable(w *writer) {
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil || len(c.Monthly) == 0 {
			continue
		}
		w.p("Dollars a month by volume (input and output tokens), %s at its SLO load, against each API at this mix:\n\n", e.Run.Label())
		head := []string{"tokens a month", "replicas", "self-hosted, rented"}
		for _, o := range optional(c.Monthly[0]) {
			head = append(head, o.name)
		}
		for _, a := range c.APIs {
			head = append(head, a.Model+" ("+a.Provider+")")
		}
		w.p("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
		for _, m := range c.Monthly {
			vol := Human(m.TokensPerMonth)
			if m.Expected {
				vol = "**" + vol + " (expected)**"
			}
			row := []string{vol, fmt.Sprintf("%d (%.1f %%)", m.Replicas, 100*m.Utilization), usd(m.RentedUSD)}
			for _, o := range optional(m) {
				row = append(row, usd(o.usd))
			}
			for _, a := range c.APIs {
				row = append(row, usd(m.APIs[a.Name]))
			}
			w.p("| %s |\n", strings.Join(row, " | "))
		}
		w.p("\n")
		return
	}
}

// tco is the TCO chart's data: the same runs and volumes as monthlyTable.
func (st *Study) tco() *chart.TCO {
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil || len(c.Monthly) == 0 {
			continue
		}
		t := &chart.TCO{Label: e.Run.Label()}
		self := []chart.TCOLine{{Label: e.Run.Label() + ", rented"}}
		for _, o := range optional(c.Monthly[0]) {
			self = append(self, chart.TCOLine{Label: e.Run.Label() + ", " + o.name})
		}
		apis := make([]chart.TCOLine, len(c.APIs))
		for _, m := range c.Monthly {
			t.Volumes = append(t.Volumes, m.TokensPerMonth)
			self[0].USD = append(self[0].USD, m.RentedUSD)
			for i, o := range optional(m) {
				self[i+1].USD = append(self[i+1].USD, o.usd)
			}
			for i, a := range c.APIs {
				apis[i].Label, apis[i].USD = a.Model+" ("+a.Provider+")", append(apis[i].USD, m.APIs[a.Name])
			}
		}
		for _, a := range c.APIs {
			if v := a.BreakEvenAtGoodputPerMon; v != nil {
				t.BreakEvens = append(t.BreakEvens, chart.BreakEven{Label: a.Model, TokensPerMonth: *v, USD: c.Price.USDPerHour * cost.HoursPerMonth})
			}
		}
		t.Self, t.APIs = self, apis
		return t
	}
	return nil
}

// currencyTable prices every option per request of the workload and per 1M
// characters of its text (cost.json currency), for the first run that has
// them: a token is not one currency across providers.
func (st *Study) currencyTable(w *writer) {
	for _, e := range st.Entries {
		c := e.Cost
		if c == nil || c.Currency == nil {
			continue
		}
		cu := c.Currency
		w.p("In one currency (a token is not one: the same text is more or fewer tokens under each vocabulary): a request of this workload is %.0f prompt characters, measured over %d prompts, and about %.0f output characters (the measured output tokens at the prompts' characters per token), each option's tokens counted with its own tokenizer where Forge can, %s at its SLO load:\n\n",
			cu.PromptCharsPerRequest, cu.Requests, cu.OutputCharsPerRequest, e.Run.Label())
		w.p("| option | tokenizer | tokens per model token | $ per 1,000 requests | $ per 1M characters | note |\n|---|---|---|---|---|---|\n")
		row := func(name string, r cost.CurrencyRow) {
			per := func(v *float64, k float64) string {
				if v == nil {
					return "—"
				}
				return usd(*v * k)
			}
			w.p("| %s | %s | %.3f | %s | %s | %s |\n", name, r.Tokenizer, r.TokensPerSelfToken, per(r.USDPerRequest, 1000), per(r.USDPer1MChars, 1), r.Estimate)
		}
		row(e.Run.Label()+" (self-hosted"+simulatedNote(&e)+")", cu.Self)
		for i, r := range cu.APIs {
			name := r.Name
			if i < len(c.APIs) {
				name = c.APIs[i].Model + " (" + c.APIs[i].Provider + ")"
			}
			row(name, r)
		}
		w.p("\n")
		return
	}
}
