package twin

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Faults are injected into a share of requests, for tests of clients:
// error (HTTP 500 before streaming), cut (connection closed half-way),
// malformed (a broken JSON chunk half-way), stall (a pause half-way),
// slow_first (a delay before the first token). Which requests are hit is a
// deterministic function of the seed and the request number.
type Faults struct {
	ErrorRate, CutRate, MalformedRate, StallRate, SlowFirstRate float64
	Stall, SlowFirstToken                                       time.Duration
}

type fault int

const (
	faultNone fault = iota
	faultError
	faultCut
	faultMalformed
	faultStall
	faultSlowFirst
)

// MaxTimeScale bounds --time-scale: beyond it the twin's clock steps are
// finer than the host's timers, and the scaled run stops modelling time.
const MaxTimeScale = 1000

// CheckTimeScale says whether a time scale is usable: a finite number
// above 0 and at most MaxTimeScale.
func CheckTimeScale(k float64) error {
	if !(k > 0 && k <= MaxTimeScale) { // NaN fails
		return fmt.Errorf("%g: want a number above 0 and at most %d (modelled seconds per wall second)", k, MaxTimeScale)
	}
	return nil
}

// ParseFaults reads "error=0.1,cut=0.05,stall=0.1:2s,slow_first=0.2:500ms,malformed=0.01".
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	if spec == "" {
		return f, nil
	}
	for _, part := range strings.Split(spec, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		rateS, durS, hasDur := strings.Cut(val, ":")
		rate, err := strconv.ParseFloat(rateS, 64)
		if !ok || err != nil || !(rate >= 0 && rate <= 1) { // NaN fails both
			return f, fmt.Errorf("fault %q: want name=rate with rate in [0,1], e.g. error=0.1 or stall=0.1:2s", part)
		}
		var d time.Duration
		if hasDur {
			if d, err = time.ParseDuration(durS); err != nil || d < 0 {
				return f, fmt.Errorf("fault %q: bad duration %q", part, durS)
			}
		}
		switch name {
		case "error":
			f.ErrorRate = rate
		case "cut":
			f.CutRate = rate
		case "malformed":
			f.MalformedRate = rate
		case "stall":
			f.StallRate, f.Stall = rate, cmp.Or(d, 2*time.Second)
		case "slow_first":
			f.SlowFirstRate, f.SlowFirstToken = rate, cmp.Or(d, 500*time.Millisecond)
		default:
			return f, fmt.Errorf("unknown fault %q (error, cut, malformed, stall, slow_first)", name)
		}
	}
	if f.ErrorRate+f.CutRate+f.MalformedRate+f.StallRate+f.SlowFirstRate > 1 {
		return f, fmt.Errorf("fault rates add up to more than 1")
	}
	return f, nil
}

// pick decides request n's fault: the rates partition [0, 1).
func (f Faults) pick(seed, n int64) fault {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", seed, n)
	u := float64(h.Sum64()>>11) / (1 << 53)
	for _, c := range []struct {
		rate float64
		f    fault
	}{{f.ErrorRate, faultError}, {f.CutRate, faultCut}, {f.MalformedRate, faultMalformed}, {f.StallRate, faultStall}, {f.SlowFirstRate, faultSlowFirst}} {
		if u < c.rate {
			return c.f
		}
		u -= c.rate
	}
	return faultNone
}
