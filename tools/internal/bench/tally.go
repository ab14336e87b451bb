package bench

import (
	"math"
	"slices"
)

// Tally is what a level's summary needs from its records, kept compactly
// as records complete, so that a live level holds its in-flight streams and
// not every record it has written: per completed request four numbers, and
// the level's pooled inter-token gaps as a count per whole microsecond
// (gaps ≥ denseMicros kept as values). 100,000 requests of 64 tokens take
// about 3 MB here plus the counts (4 bytes per microsecond up to the
// longest gap, at most 4 MiB), against about 800 MB as records.
//
// Every record's millisecond figure is rounded to the microsecond (ms), so
// a gap counted by microsecond gives back the very float64 the record
// holds, and the statistics equal those computed from the records (forge
// verify recomputes them from the JSONL). A gap that is not such a figure
// (records from elsewhere) switches the tally to float64 gaps.
type Tally struct {
	Records, Completed, Failed, Late int
	InputTokens, OutputTokens        int
	Failures                         map[string]int // by failureClass

	first, last float64 // earliest actual_send_s, latest done_s
	requests    []request
	itlCounts   []uint32  // itlCounts[µs]: gaps of that many microseconds, below denseMicros
	itlAbove    []float64 // gaps of denseMicros or more
	itlN        int       // gaps in itlCounts and itlAbove
	itlFloat    []float64 // non-nil once a gap is not a whole, non-negative microsecond
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

// denseMicros bounds the gaps counted by microsecond (about a second).
const denseMicros = 1 << 20

func (t *Tally) addGap(g float64) {
	if t.itlFloat == nil {
		us := math.Round(g * 1e3)
		if us >= 0 && us/1e3 == g {
			t.itlN++
			if us >= denseMicros {
				t.itlAbove = append(t.itlAbove, g)
				return
			}
			i := int(us)
			if i >= len(t.itlCounts) {
				grown := max(i+1, min(2*len(t.itlCounts), denseMicros))
				t.itlCounts = append(t.itlCounts, make([]uint32, grown-len(t.itlCounts))...)
			}
			t.itlCounts[i]++
			return
		}
		t.itlFloat = make([]float64, 0, t.itlN+1)
		t.eachGap(func(x float64) { t.itlFloat = append(t.itlFloat, x) })
		t.itlCounts, t.itlAbove, t.itlN = nil, nil, 0
	}
	t.itlFloat = append(t.itlFloat, g)
}

// eachGap yields the counted gaps in ascending order.
func (t *Tally) eachGap(yield func(float64)) {
	for us, c := range t.itlCounts {
		for range c {
			yield(float64(us) / 1e3)
		}
	}
	slices.Sort(t.itlAbove)
	for _, g := range t.itlAbove {
		yield(g)
	}
}

// gapAt is the counted gap of rank i in ascending order.
func (t *Tally) gapAt(i int) float64 {
	for us, c := range t.itlCounts {
		if i < int(c) {
			return float64(us) / 1e3
		}
		i -= int(c)
	}
	return t.itlAbove[i]
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

// itlStats summarises the pooled gaps.
func (t *Tally) itlStats() Stats {
	if t.itlFloat != nil {
		slices.Sort(t.itlFloat)
		return summarizeSorted(len(t.itlFloat), func(yield func(float64)) {
			for _, x := range t.itlFloat {
				yield(x)
			}
		}, func(i int) float64 { return t.itlFloat[i] })
	}
	slices.Sort(t.itlAbove)
	return summarizeSorted(t.itlN, t.eachGap, t.gapAt)
}
