package report

import (
	"fmt"
	"strings"

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
			w.p(", %s", o)
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

// optional are the monthly figures the experiment asked for beyond rent.
func optional(m cost.Monthly) []string {
	var out []string
	for _, f := range []struct {
		name string
		v    *float64
	}{{"with operations", m.RentedWithOpsUSD}, {"owned", m.OwnedUSD}, {"owned with operations", m.OwnedWithOpsUSD}} {
		if f.v != nil {
			out = append(out, fmt.Sprintf("%s %s", f.name, usd(*f.v)))
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
		extra := optional(c.Monthly[0])
		for _, o := range extra {
			head = append(head, strings.SplitN(o, " $", 2)[0])
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
				row = append(row, "$"+strings.SplitN(o, " $", 2)[1])
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
