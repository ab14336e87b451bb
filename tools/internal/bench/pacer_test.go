package bench

import (
	"math"
	"testing"
	"time"
)

// TestGammaPacerStatistics: the gaps have mean 1/rate and coefficient of
// variation 1/sqrt(burstiness), for a fixed seed.
func TestGammaPacerStatistics(t *testing.T) {
	tests := []struct{ rate, burstiness float64 }{{10, 1}, {10, 0.25}, {50, 4}, {2, 1}}
	const n = 20000
	for _, tt := range tests {
		p := NewGammaPacer(n, tt.rate, tt.burstiness, 42)
		var sum, sq float64
		prev := time.Duration(0)
		for i := 0; i < n; i++ {
			gap := (p.Due(i) - prev).Seconds()
			prev = p.Due(i)
			sum += gap
			sq += gap * gap
		}
		mean := sum / n
		cv := math.Sqrt(sq/n-mean*mean) / mean
		if math.Abs(mean-1/tt.rate)/(1/tt.rate) > 0.03 {
			t.Errorf("rate %v burstiness %v: mean gap %v, want %v", tt.rate, tt.burstiness, mean, 1/tt.rate)
		}
		if want := 1 / math.Sqrt(tt.burstiness); math.Abs(cv-want)/want > 0.05 {
			t.Errorf("rate %v burstiness %v: CV %v, want %v", tt.rate, tt.burstiness, cv, want)
		}
	}
}

// TestPace is the pacer as a pure function of elapsed time and sent count.
func TestPace(t *testing.T) {
	p := schedulePacer{offsets: []time.Duration{100 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond}}
	tests := []struct {
		elapsed time.Duration
		sent    int
		wait    time.Duration
		stop    bool
	}{
		{0, 0, 100 * time.Millisecond, false},
		{100 * time.Millisecond, 0, 0, false},
		{120 * time.Millisecond, 1, 30 * time.Millisecond, false},
		{500 * time.Millisecond, 2, 0, false}, // behind schedule: send now
		{500 * time.Millisecond, 3, 0, true},
	}
	for _, tt := range tests {
		wait, stop := p.Pace(tt.elapsed, tt.sent)
		if wait != tt.wait || stop != tt.stop {
			t.Errorf("Pace(%v, %d) = %v, %v; want %v, %v", tt.elapsed, tt.sent, wait, stop, tt.wait, tt.stop)
		}
	}
	a, b := NewGammaPacer(10, 5, 1, 7), NewGammaPacer(10, 5, 1, 7)
	for i := 0; i < 10; i++ {
		if a.Due(i) != b.Due(i) {
			t.Fatal("same seed, different schedule")
		}
	}
	if NewGammaPacer(10, 5, 1, 8).Due(9) == a.Due(9) {
		t.Error("different seeds gave the same schedule")
	}
}
