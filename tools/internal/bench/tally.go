package bench

import (
	"math"
	"slices"
)

// Tally is what a level's summary needs from its records, kept compactly
// as records complete, so that a live level holds its in-flight streams and
// not every record it has written: per completed request four numbers, and
// the level's pooled inter-token gaps as whole microseconds (4 bytes each,
// where a record holds them as float64 in two arrays). 100,000 requests of
// 64 tokens take about 28 MB here, against about 800 MB as records.
//
// Every record's millisecond figure is rounded to the microsecond (ms), so
// a gap stored as microseconds gives back the very float64 the record
// holds, and the statistics equal those computed from the records (forge
// verify recomputes them from the JSONL). A gap that is not such a figure
// (records from elsewhere) switches the tally to float64 gaps.
type Tally struct {
	Records, Completed, Failed, Late int
	InputTokens, OutputTokens        int
	Failures                         map[string]int // by failureClass

	first, last float64 // earliest actual_send_s, latest done_s
	requests    []request
	itlMicros   []int32
	itlFloat    []float64 // non-nil once a gap is not a whole microsecond
	connect     []float64
	scratch     []float64
}

// request is one completed request's latencies (NaN: undefined).
type request struct{ ttft, e2el, tpot, itlP99 float64 }

// NewTally is an empty tally.
func NewTally() *Tally { return &Tally{Failures: map[string]int{}} }

// TallyOf tallies records held in memory (the twin's, forge verify's).
func TallyOf(records []Record) *Tally {
	t := NewTally()
	for _, r := range records {
		t.Add(r)
	}
	return t
}

// Add counts one record. It is not safe for concurrent use: a level adds
// its records from the one goroutine that writes them.
func (t *Tally) Add(r Record) {
	if t.Records == 0 {
		t.first, t.last = r.ActualSendS, r.DoneS
	}
	t.Records++
	t.first, t.last = min(t.first, r.ActualSendS), max(t.last, r.DoneS)
	if r.Late {
		t.Late++
	}
	if r.ConnectMs != nil {
		t.connect = append(t.connect, *r.ConnectMs)
	}
	if r.Status != "ok" {
		t.Failed++
		t.Failures[failureClass(r)]++
		return
	}
	t.Completed++
	t.InputTokens += r.PromptTokens
	t.OutputTokens += r.OutputTokens
	t.requests = append(t.requests, requestOf(r, &t.scratch))
	for _, g := range r.ITLMs {
		t.addGap(g)
	}
}

// requestOf is a completed record's latencies; scratch is reused for
// sorting its gaps.
func requestOf(r Record, scratch *[]float64) request {
	q := request{ttft: *r.TTFTMs, e2el: *r.E2ELMs, tpot: math.NaN(), itlP99: math.NaN()}
	if r.TPOTMs != nil {
		q.tpot = *r.TPOTMs
	}
	if len(r.ITLMs) > 0 {
		*scratch = append((*scratch)[:0], r.ITLMs...)
		slices.Sort(*scratch)
		q.itlP99 = Percentile(*scratch, 99)
	}
	return q
}

func (t *Tally) addGap(g float64) {
	if t.itlFloat == nil {
		us := math.Round(g * 1e3)
		if us >= math.MinInt32 && us <= math.MaxInt32 && us/1e3 == g {
			t.itlMicros = append(t.itlMicros, int32(us))
			return
		}
		t.itlFloat = make([]float64, 0, len(t.itlMicros)+1)
		for _, u := range t.itlMicros {
			t.itlFloat = append(t.itlFloat, float64(u)/1e3)
		}
		t.itlMicros = nil
	}
	t.itlFloat = append(t.itlFloat, g)
}

// duration is the level's duration as the records tell it: the last
// done_s minus the first actual_send_s, so that a summary is a function of
// its records alone.
func (t *Tally) duration() float64 {
	if t.Records == 0 {
		return 0
	}
	return max(t.last-t.first, 0)
}

// latencies are the completed requests' values of one metric, NaNs left out.
func (t *Tally) latencies(of func(request) float64) []float64 {
	out := make([]float64, 0, len(t.requests))
	for _, q := range t.requests {
		if v := of(q); !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// itlStats summarises the pooled gaps, sorting them in place.
func (t *Tally) itlStats() Stats {
	if t.itlFloat != nil {
		slices.Sort(t.itlFloat)
		return summarizeSorted(len(t.itlFloat), func(i int) float64 { return t.itlFloat[i] })
	}
	slices.Sort(t.itlMicros)
	return summarizeSorted(len(t.itlMicros), func(i int) float64 { return float64(t.itlMicros[i]) / 1e3 })
}
