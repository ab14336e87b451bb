package cost

import (
	"math"
	"sort"
)

// Monthly is what one month of a token volume costs each way, the total
// cost of ownership the break-even figures summarise: self-hosting pays
// for whole GPUs reserved around the clock whatever the volume (as many
// as the volume needs at the goodput level, the highest load meeting the
// SLO), an API pays per token. Volumes are total tokens (input and output)
// at the run's mix.
type Monthly struct {
	TokensPerMonth float64 `json:"tokens_per_month"`
	// Expected marks the experiment's cost.expected_tokens_per_month.
	Expected bool `json:"expected,omitempty"`
	// Replicas is how many copies of the hardware (one GPU in the study)
	// the volume needs at the goodput level's throughput, and Utilization
	// the share of their month it keeps them busy.
	Replicas    int     `json:"replicas"`
	Utilization float64 `json:"utilization"`
	RentedUSD   float64 `json:"rented_usd"`
	// With operations (the experiment's ops block): engineers and spare
	// GPUs added, shown apart so either can be quoted.
	RentedWithOpsUSD *float64 `json:"rented_with_ops_usd,omitempty"`
	OwnedUSD         *float64 `json:"owned_usd,omitempty"`
	OwnedWithOpsUSD  *float64 `json:"owned_with_ops_usd,omitempty"`
	// APIs is each compared API's bill for the volume, by catalog name.
	APIs map[string]float64 `json:"apis"`
}

// DefaultVolumes are the monthly token volumes priced when the experiment
// names none, half a decade apart from 1M to 10B tokens a month: a
// prototype to a busy product.
var DefaultVolumes = []float64{1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10}

// monthly prices each volume (and the expected one, when given) at the
// goodput level; none when no level meets the SLO, since then no number of
// replicas serves any volume under it.
func monthly(r *Report, hourly float64, good int, expected *float64, engineers float64, spare int) []Monthly {
	out := []Monthly{}
	if good < 0 || r.Levels[good].TotalTokenThroughput <= 0 {
		return out
	}
	perGPU := r.Levels[good].TotalTokenThroughput * 3600 * HoursPerMonth
	volumes := append([]float64(nil), DefaultVolumes...)
	if expected != nil {
		volumes = append(volumes, *expected)
	}
	sort.Float64s(volumes)
	for i, v := range volumes {
		if i > 0 && v == volumes[i-1] {
			continue
		}
		n := max(1, int(math.Ceil(v/perGPU)))
		m := Monthly{TokensPerMonth: v, Expected: expected != nil && v == *expected, Replicas: n, Utilization: v / (float64(n) * perGPU),
			RentedUSD: float64(n) * hourly * HoursPerMonth, APIs: map[string]float64{}}
		if r.Ops != nil {
			m.RentedWithOpsUSD = ptr(m.RentedUSD + engineers + float64(spare)*hourly*HoursPerMonth)
		}
		if r.Owned != nil {
			ownedHourly := r.Owned.USDPerHourEquivalent
			m.OwnedUSD = ptr(float64(n) * ownedHourly * HoursPerMonth)
			if r.Ops != nil {
				m.OwnedWithOpsUSD = ptr(*m.OwnedUSD + engineers + float64(spare)*ownedHourly*HoursPerMonth)
			}
		}
		for _, a := range r.APIs {
			m.APIs[a.Name] = v * a.BlendedUSDPer1M / 1e6
		}
		out = append(out, m)
	}
	return out
}

func ptr(v float64) *float64 { return &v }
