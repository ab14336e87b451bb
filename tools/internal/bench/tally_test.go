package bench

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestTallyMatchesRecords: the tally's compact gaps give the very
// statistics that Summarize gives over the records' float64 gaps, whether
// the gaps are whole microseconds (counted), beyond the counted range, or
// not microsecond figures at all (kept as values).
func TestTallyMatchesRecords(t *testing.T) {
	tests := []struct {
		name string
		gap  func(r *rand.Rand) float64
	}{
		{"microseconds", func(r *rand.Rand) float64 { return ms(time.Duration(r.IntN(40_000_000))) }},
		{"beyond a second", func(r *rand.Rand) float64 { return ms(time.Duration(r.IntN(3_000_000_000))) }},
		{"not microseconds", func(r *rand.Rand) float64 { return r.Float64() * 30 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var records []Record
			var gaps []float64
			for i := range 300 {
				rec := Record{Status: "ok", TTFTMs: ptr(1), E2ELMs: ptr(2), ActualSendS: float64(i), DoneS: float64(i) + 1}
				for range r.IntN(40) {
					g := tt.gap(r)
					rec.ITLMs = append(rec.ITLMs, g)
					gaps = append(gaps, g)
				}
				records = append(records, rec)
			}
			got := TallyOf(records).itlStats()
			if want := Summarize(gaps); !reflect.DeepEqual(got, want) {
				t.Errorf("tally ITL stats\n got %+v\nwant %+v", deref(got), deref(want))
			}
		})
	}
}

func deref(s Stats) []float64 {
	return []float64{*s.Mean, *s.Std, *s.P50, *s.P90, *s.P99, *s.P999, *s.Min, *s.Max, float64(s.Count)}
}
