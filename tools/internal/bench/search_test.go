package bench

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// thresholdProbe meets the SLO exactly up to limit, and records the loads
// probed and their indexes.
func thresholdProbe(limit float64, probed *[]Level) Probe {
	return func(_ context.Context, lvl Level) (Summary, error) {
		*probed = append(*probed, lvl)
		met := lvl.Value <= limit
		return Summary{Level: lvl, Completed: 10, Goodput: Goodput{SLOMet: &met}}, nil
	}
}

func TestFindMax(t *testing.T) {
	for _, c := range []struct {
		name         string
		s            Search
		limit        float64
		found, above float64 // -1: nil
		values       []float64
		stopped      string
	}{
		{"grow then bisect", Search{Kind: "concurrency", Start: 1, Max: 64, Step: 1, MaxProbes: 20}, 11, 11, 12,
			[]float64{1, 2, 4, 8, 16, 12, 10, 11}, ""},
		{"max meets the SLO", Search{Kind: "concurrency", Start: 4, Max: 48, Step: 1, MaxProbes: 20}, 100, 48, -1,
			[]float64{4, 8, 16, 32, 48}, ""},
		{"the start fails", Search{Kind: "concurrency", Start: 1, Max: 64, Step: 1, MaxProbes: 20}, 0.5, -1, 1,
			[]float64{1}, ""},
		{"rate bisects below a failing start", Search{Kind: "rate", Start: 4, Max: 32, Step: 0.5, MaxProbes: 20}, 1.2, 1, 1.5,
			[]float64{4, 2, 1, 1.5}, ""},
		{"rate to the step", Search{Kind: "rate", Start: 1, Max: 32, Step: 0.25, MaxProbes: 20}, 5.3, 5.25, 5.5,
			[]float64{1, 2, 4, 8, 6, 5, 5.5, 5.25}, ""},
		{"probe budget", Search{Kind: "concurrency", Start: 1, Max: 64, Step: 1, MaxProbes: 3}, 11, 4, -1,
			[]float64{1, 2, 4}, "3 probes, the most allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var probed []Level
			res, sums, err := FindMax(context.Background(), c.s, 3, thresholdProbe(c.limit, &probed))
			if err != nil {
				t.Fatal(err)
			}
			var values []float64
			for i, l := range probed {
				values = append(values, l.Value)
				if l.Index != 3+i || l.Kind != c.s.Kind {
					t.Errorf("probe %d is level %+v, want index %d of kind %s", i, l, 3+i, c.s.Kind)
				}
			}
			if !equalFloats(values, c.values) || len(sums) != len(probed) || res.Probes != len(probed) {
				t.Errorf("probed %v (%d summaries, %d counted), want %v", values, len(sums), res.Probes, c.values)
			}
			if got := loadOf(res.Found); got != c.found {
				t.Errorf("found %v, want %v", got, c.found)
			}
			if got := loadOf(res.Above); got != c.above {
				t.Errorf("above %v, want %v", got, c.above)
			}
			if res.Stopped != c.stopped {
				t.Errorf("stopped %q, want %q", res.Stopped, c.stopped)
			}
		})
	}
}

// TestFindMaxFailures: bad settings are refused before any probe; a probe's
// error ends the search with what was measured; a cancelled context stops
// it and says so.
func TestFindMaxFailures(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Search
		want string
	}{
		{"kind", Search{Kind: "tokens", Start: 1, Max: 2, Step: 1, MaxProbes: 4}, "use concurrency or rate"},
		{"start", Search{Kind: "rate", Start: 0, Max: 2, Step: 1, MaxProbes: 4}, "positive number"},
		{"max below start", Search{Kind: "rate", Start: 4, Max: 2, Step: 1, MaxProbes: 4}, "at least its start"},
		{"fractional concurrency", Search{Kind: "concurrency", Start: 1.5, Max: 8, Step: 1, MaxProbes: 4}, "whole numbers"},
		{"step", Search{Kind: "rate", Start: 1, Max: 2, Step: 0, MaxProbes: 4}, "step"},
		{"probes", Search{Kind: "rate", Start: 1, Max: 2, Step: 1, MaxProbes: 0}, "max_probes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var probed []Level
			_, _, err := FindMax(context.Background(), c.s, 0, thresholdProbe(1, &probed))
			if err == nil || !strings.Contains(err.Error(), c.want) || len(probed) > 0 {
				t.Errorf("err %v (probed %v), want %q and no probe", err, probed, c.want)
			}
		})
	}
	s := Search{Kind: "concurrency", Start: 1, Max: 64, Step: 1, MaxProbes: 20}
	boom := errors.New("server died")
	n := 0
	res, sums, err := FindMax(context.Background(), s, 0, func(_ context.Context, lvl Level) (Summary, error) {
		if n++; n == 3 {
			return Summary{}, boom
		}
		met := true
		return Summary{Level: lvl, Completed: 1, Goodput: Goodput{SLOMet: &met}}, nil
	})
	if !errors.Is(err, boom) || len(sums) != 2 || loadOf(res.Found) != 2 {
		t.Errorf("probe error: err %v, %d summaries, found %v; want the error, 2 summaries, found 2", err, len(sums), loadOf(res.Found))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var probed []Level
	res, _, _ = FindMax(ctx, s, 0, func(ctx context.Context, lvl Level) (Summary, error) {
		cancel()
		return thresholdProbe(64, &probed)(ctx, lvl)
	})
	if res.Stopped != "interrupted" || len(probed) != 1 {
		t.Errorf("cancelled: stopped %q after %d probes", res.Stopped, len(probed))
	}
}

// TestMeetsSLO: failures and incomplete levels never meet an SLO.
func TestMeetsSLO(t *testing.T) {
	yes, no := true, false
	for _, c := range []struct {
		s    Summary
		want bool
	}{
		{Summary{Completed: 5, Goodput: Goodput{SLOMet: &yes}}, true},
		{Summary{Completed: 5, Goodput: Goodput{SLOMet: &no}}, false},
		{Summary{Completed: 5, Failed: 1, Goodput: Goodput{SLOMet: &yes}}, false},
		{Summary{Completed: 5, Incomplete: true, Goodput: Goodput{SLOMet: &yes}}, false},
		{Summary{Completed: 0, Goodput: Goodput{SLOMet: &yes}}, false},
	} {
		if got := MeetsSLO(c.s); got != c.want {
			t.Errorf("MeetsSLO(%+v) = %v, want %v", c.s, got, c.want)
		}
	}
}

func loadOf(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
