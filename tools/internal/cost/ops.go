package cost

import "github.com/forge-bench/forge/tools/internal/plan"

// Ops is the rented figures with operations added: engineers' time and
// spare GPUs, both monthly and fixed like the rent, spread over the hours
// of a month into an hourly equivalent and priced at the goodput level
// (the highest load meeting the SLO) like the rental. Shown apart from the
// rental figures, so that either can be quoted.
type Ops struct {
	EngineerUSDPerMonth   float64             `json:"engineer_usd_per_month"`
	RedundantGPUs         int                 `json:"redundant_gpus"`
	RedundancyUSDPerMonth float64             `json:"redundancy_usd_per_month"`
	USDPerMonth           float64             `json:"usd_per_month"`
	USDPerHourWithOps     float64             `json:"usd_per_hour_with_ops"`
	Source                string              `json:"source,omitempty"`
	USDPer1MTotalTokens   ByUtil              `json:"usd_per_1m_total_tokens"`
	BreakEvenUtilization  map[string]*float64 `json:"break_even_utilization"`
	BreakEvenTokensPerMon map[string]*float64 `json:"break_even_tokens_per_month"`
	// Owned is the same for bought hardware (the hardware's owned block):
	// its hourly equivalent plus engineers and the spare GPUs, also owned.
	Owned *OwnedOps `json:"owned,omitempty"`
}

// OwnedOps is owned hardware with operations, priced at the goodput level.
type OwnedOps struct {
	RedundancyUSDPerMonth float64 `json:"redundancy_usd_per_month"`
	USDPerMonth           float64 `json:"usd_per_month"`
	USDPerHourWithOps     float64 `json:"usd_per_hour_with_ops"`
	USDPer1MTotalTokens   ByUtil  `json:"usd_per_1m_total_tokens"`
}

// ops adds operations to the rent: engineer hours × rate and the spare
// GPUs' rent, a month each, over HoursPerMonth. Against each API the
// break-even is recomputed with that hourly cost; nil where no level
// meets the SLO or the API stays cheaper.
func ops(o plan.Ops, r *Report, hourly float64, good int, utils []float64) *Ops {
	out := &Ops{EngineerUSDPerMonth: o.EngineerHoursPerMonth * o.USDPerEngineerHour, RedundantGPUs: o.RedundantGPUs,
		RedundancyUSDPerMonth: float64(o.RedundantGPUs) * hourly * HoursPerMonth, Source: o.Source,
		USDPer1MTotalTokens: ByUtil{}, BreakEvenUtilization: map[string]*float64{}, BreakEvenTokensPerMon: map[string]*float64{}}
	out.USDPerMonth = out.EngineerUSDPerMonth + out.RedundancyUSDPerMonth
	out.USDPerHourWithOps = hourly + out.USDPerMonth/HoursPerMonth
	var total float64
	if good >= 0 {
		total = r.Levels[good].TotalTokenThroughput
	}
	for _, u := range utils {
		out.USDPer1MTotalTokens[Key(u)] = PerMillion(out.USDPerHourWithOps, total, u)
	}
	if r.Owned != nil {
		h := r.Owned.USDPerHourEquivalent
		own := &OwnedOps{RedundancyUSDPerMonth: float64(o.RedundantGPUs) * h * HoursPerMonth, USDPer1MTotalTokens: ByUtil{}}
		own.USDPerMonth = out.EngineerUSDPerMonth + own.RedundancyUSDPerMonth
		own.USDPerHourWithOps = h + own.USDPerMonth/HoursPerMonth
		for _, u := range utils {
			own.USDPer1MTotalTokens[Key(u)] = PerMillion(own.USDPerHourWithOps, total, u)
		}
		out.Owned = own
	}
	self := out.USDPer1MTotalTokens[Key(1)]
	for _, a := range r.APIs {
		out.BreakEvenUtilization[a.Name], out.BreakEvenTokensPerMon[a.Name] = nil, nil
		if self == nil {
			continue
		}
		if v := breakEven(out.USDPerHourWithOps, *self, a.BlendedUSDPer1M); v != nil {
			u := *self / a.BlendedUSDPer1M
			out.BreakEvenUtilization[a.Name], out.BreakEvenTokensPerMon[a.Name] = &u, v
		}
	}
	return out
}
