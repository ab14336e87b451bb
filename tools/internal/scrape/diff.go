package scrape

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Prefix selects the families a View keeps. The server's Go/Python runtime,
// process and HTTP families describe the process, not the engine, and would
// bloat every result; a Snapshot still keeps them.
const Prefix = "vllm:"

// View is the server-side picture of one level, as written into the bench
// summary's "server" object. Every number is finite, so a View always encodes
// as JSON: non-finite samples are skipped.
type View struct {
	// Counters holds after − before for every counter, summed over label
	// sets, under the name as exposed (vllm:prompt_tokens_total keeps its
	// _total). Histograms and summaries add name_sum and name_count.
	Counters map[string]float64 `json:"counters"`
	// Gauges holds every sample taken for the level in time order (before,
	// the periodic samples, after), each summed over label sets. A snapshot
	// that lacks the family contributes 0, so index i is always snapshot i.
	Gauges map[string][]float64 `json:"gauges"`
	// IntervalS is the seconds between periodic samples (the median gap,
	// rounded to the millisecond), 0 when only before and after were taken.
	IntervalS float64 `json:"interval_s,omitempty"`
	// Histograms holds the level's delta histogram for every histogram
	// family (TTFT, ITL, E2E, …), summed over label sets, so quantiles can be
	// taken from the server's view (Histogram.Quantile).
	Histograms map[string]Histogram `json:"histograms,omitempty"`
	// Resets names, sorted, the families whose counts went down during the
	// level (a server restart). Their delta counts from zero at the restart
	// instead of going negative.
	Resets []string `json:"resets,omitempty"`
}

// Histogram is a delta histogram: how many of the level's observations fell
// at or below each bound.
type Histogram struct {
	// Buckets are cumulative and sorted by LE. The +Inf bucket is omitted
	// (JSON has no Inf); Count is its value.
	Buckets []Bucket `json:"buckets"`
	Count   float64  `json:"count"`
	Sum     float64  `json:"sum"`
}

// Bucket is one cumulative bucket: Count observations were ≤ LE.
type Bucket struct {
	LE    float64 `json:"le"`
	Count float64 `json:"count"`
}

// Diff builds a View from the before and after snapshots and the samples taken
// in between (sorted by At here; the order given does not matter). A sample
// taken before before.At or after after.At is ignored (when those are set):
// placed between them it would read as a counter going down.
//
// Increases are computed as Prometheus' increase() does, pair by pair along
// before, samples…, after: a value lower than the previous one is a reset, and
// the new value counts as the increase since it. With no samples that is the
// after value, never a negative delta. A series absent from before counts from
// zero.
func Diff(before, after Snapshot, samples []Snapshot) View {
	mid := make([]Snapshot, 0, len(samples))
	for _, s := range samples {
		if (before.At.IsZero() || !s.At.Before(before.At)) && (after.At.IsZero() || !s.At.After(after.At)) {
			mid = append(mid, s)
		}
	}
	slices.SortStableFunc(mid, func(a, b Snapshot) int { return a.At.Compare(b.At) })
	seq := make([]Snapshot, 0, len(mid)+2)
	seq = append(seq, before)
	seq = append(seq, mid...)
	seq = append(seq, after)

	v := View{Counters: map[string]float64{}, Gauges: map[string][]float64{}, Histograms: map[string]Histogram{}}
	resets := map[string]bool{}
	for _, name := range familyNames(seq) {
		typ, owner := familyType(seq, name)
		if isCreatedSeries(name, owner) {
			continue
		}
		series := seriesOf(seq, name, typ)
		switch typ {
		case dto.MetricType_COUNTER:
			d, r := increase(series, counterValue)
			setFinite(v.Counters, name, d)
			resets[name] = r
		case dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
			v.Gauges[name] = gaugeSeries(series, len(seq))
		case dto.MetricType_SUMMARY:
			s, r1 := increase(series, summarySum)
			c, r2 := increase(series, summaryCount)
			setFinite(v.Counters, name+"_sum", s)
			setFinite(v.Counters, name+"_count", c)
			resets[name] = r1 || r2
		case dto.MetricType_HISTOGRAM:
			h, r := histogramIncrease(series)
			setFinite(v.Counters, name+"_sum", h.Sum)
			setFinite(v.Counters, name+"_count", h.Count)
			if h.finite() {
				v.Histograms[name] = h
			}
			resets[name] = r
		}
	}
	for name, r := range resets {
		if r {
			v.Resets = append(v.Resets, name)
		}
	}
	sort.Strings(v.Resets)
	v.IntervalS = interval(before, mid)
	return v
}

// familyNames lists, sorted, the vllm: families any snapshot holds.
func familyNames(seq []Snapshot) []string {
	seen := map[string]bool{}
	for _, s := range seq {
		for name := range s.Families {
			if strings.HasPrefix(name, Prefix) {
				seen[name] = true
			}
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// familyType is the family's type in the latest snapshot that has it, and that
// snapshot. Snapshots where the family has another type are read as lacking it.
func familyType(seq []Snapshot, name string) (dto.MetricType, Snapshot) {
	for i := len(seq) - 1; i >= 0; i-- {
		if mf, ok := seq[i].Families[name]; ok {
			return mf.GetType(), seq[i]
		}
	}
	return dto.MetricType_UNTYPED, Snapshot{}
}

// isCreatedSeries reports whether name is one of the X_created gauges that
// prometheus_client adds next to every counter and histogram: a creation
// timestamp, not a measurement.
func isCreatedSeries(name string, s Snapshot) bool {
	stem, ok := strings.CutSuffix(name, "_created")
	if !ok {
		return false
	}
	if mf, ok := s.Families[stem+"_total"]; ok && mf.GetType() == dto.MetricType_COUNTER {
		return true
	}
	mf, ok := s.Families[stem]
	return ok && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY ||
		mf.GetType() == dto.MetricType_COUNTER)
}

// interval is the median gap between periodic samples (with one sample, its
// gap from before), in seconds rounded to the millisecond.
func interval(before Snapshot, mid []Snapshot) float64 {
	var gaps []time.Duration
	switch {
	case len(mid) == 1 && !before.At.IsZero():
		gaps = append(gaps, mid[0].At.Sub(before.At))
	case len(mid) > 1:
		for i := 1; i < len(mid); i++ {
			gaps = append(gaps, mid[i].At.Sub(mid[i-1].At))
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	g := gaps[len(gaps)/2]
	if len(gaps)%2 == 0 {
		g = (gaps[len(gaps)/2-1] + g) / 2
	}
	if g <= 0 {
		return 0
	}
	return math.Round(g.Seconds()*1000) / 1000
}

// setFinite stores x under name unless it is NaN or ±Inf.
func setFinite(m map[string]float64, name string, x float64) {
	if !math.IsNaN(x) && !math.IsInf(x, 0) {
		m[name] = x
	}
}
