package bench

import (
	"math"
	"math/rand/v2"
	"time"
)

// Pacer decides when the next request of an open-loop level is due. Like
// vegeta's pacer it is a pure function of elapsed time and the number of
// requests already sent, so it is table-testable and no goroutine owns state.
type Pacer interface {
	// Pace returns how long to wait before sending request number sent
	// (0-based) given the time elapsed since the level started; stop is true
	// when every request has been scheduled.
	Pace(elapsed time.Duration, sent int) (wait time.Duration, stop bool)
	// Due is the scheduled send offset of request i.
	Due(i int) time.Duration
}

// schedulePacer replays a precomputed arrival schedule.
type schedulePacer struct{ offsets []time.Duration }

func (p schedulePacer) Pace(elapsed time.Duration, sent int) (time.Duration, bool) {
	if sent >= len(p.offsets) {
		return 0, true
	}
	if w := p.offsets[sent] - elapsed; w > 0 {
		return w, false
	}
	return 0, false
}

func (p schedulePacer) Due(i int) time.Duration { return p.offsets[i] }

// NewGammaPacer draws n inter-arrival gaps as `vllm bench serve` does: from a
// gamma distribution with shape = burstiness and scale = 1/(rate·burstiness),
// so the mean gap is 1/rate whatever the burstiness; burstiness 1 is a
// Poisson process, below 1 burstier, above 1 more regular (the coefficient of
// variation of the gaps is 1/sqrt(burstiness)). The first request is due at
// its first gap, as in vLLM. Deterministic for a seed.
func NewGammaPacer(n int, rate, burstiness float64, seed uint64) Pacer {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	scale := 1 / (rate * burstiness)
	offsets := make([]time.Duration, n)
	var t float64
	for i := range offsets {
		t += gamma(rng, burstiness) * scale
		offsets[i] = time.Duration(t * float64(time.Second))
	}
	return schedulePacer{offsets}
}

// gamma samples Gamma(shape, 1) by Marsaglia and Tsang's method (2000),
// boosting shapes below 1 with U^(1/shape).
func gamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
